import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { APPROVAL_STATUSES } from '../core/model.js';
import { DecisionEvidenceSchema } from './evidence-decisions.js';

/**
 * The evidence pack as data: its types are these schemas' (so the JSON, the API's answer and
 * the SDK's types cannot disagree). docs/governance.md describes every field.
 */

const Nullable = <S extends TSchema>(schema: S) => Type.Union([schema, Type.Null()]);
const Literals = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });
const Timestamp = Type.String({ format: 'date-time' });
const REASONS = ['seq_gap', 'prev_hash_mismatch', 'hash_mismatch', 'unchained'] as const;

/** Where a chain stops verifying. */
const BrokenAt = Type.Object(
  {
    id: Type.String({ description: 'The first event (or change log entry) that does not fit.' }),
    seq: Type.Integer(),
    type: Type.String(),
    reason: Literals(REASONS),
    why: Type.String(),
  },
  { additionalProperties: false },
);

export const ApprovalEvidenceSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    requester: Nullable(Type.String()),
    requesterToken: Nullable(Type.String({ description: 'The issuer and subject of the token that asked.' })),
    status: Literals(APPROVAL_STATUSES),
    createdAt: Timestamp,
    decidedAt: Nullable(Timestamp),
    reason: Nullable(Type.String()),
    timeToDecisionMs: Nullable(Type.Integer({ description: 'From creation to approval or rejection.' })),
    policy: Type.Object(
      {
        name: Nullable(Type.String({ description: 'The named policy; null for an inline one.' })),
        version: Nullable(Type.String({ description: 'sha256:HEX recorded at creation; null before 0016.' })),
        source: Literals(['named', 'inline']),
        firstSeenAt: Nullable(Timestamp),
        verified: Nullable(
          Type.Boolean({
            description:
              "Named: the version is in the policy change log. Inline: it is the hash of the approval's policy.",
          }),
        ),
        onChain: Nullable(
          Type.Boolean({ description: 'The approval.created event records the same version.' }),
        ),
      },
      { additionalProperties: false },
    ),
    breakGlass: Nullable(
      Type.Object(
        {
          by: Type.String(),
          reason: Type.String(),
          at: Timestamp,
          reviewDueAt: Timestamp,
          review: Type.Union([Type.Literal('open'), Type.Literal('confirmed'), Type.Literal('flagged')]),
          reviewedBy: Nullable(Type.String()),
          reviewedAt: Nullable(Timestamp),
          overdue: Type.Boolean({ description: 'Still open past its deadline when the pack was made.' }),
        },
        {
          additionalProperties: false,
          description: 'Set when the approval was approved at once by break-glass.',
        },
      ),
    ),
    resume: Type.Object(
      {
        callback: Nullable(Type.String({ description: 'The kind of callback; null when nothing waits.' })),
        resumedAt: Nullable(Timestamp),
        decidedBeforeResume: Nullable(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    chain: Type.Object(
      {
        events: Type.Integer(),
        headSeq: Nullable(Type.Integer({ description: 'The last event: its place in the chain.' })),
        headHash: Nullable(Type.String()),
        verified: Type.Boolean(),
        broken: Nullable(BrokenAt),
      },
      { additionalProperties: false },
    ),
    decisions: Type.Array(DecisionEvidenceSchema),
  },
  { additionalProperties: false },
);
export type ApprovalEvidence = Static<typeof ApprovalEvidenceSchema>;

const Durations = {
  decided: Type.Integer(),
  medianMs: Nullable(Type.Integer()),
  p90Ms: Nullable(Type.Integer()),
};

export const EvidenceSummarySchema = Type.Object(
  {
    approvals: Type.Integer({ description: 'Every approval created in the period.' }),
    outcomes: Type.Object(
      Object.fromEntries(APPROVAL_STATUSES.map((s) => [s, Type.Integer()])) as Record<
        (typeof APPROVAL_STATUSES)[number],
        ReturnType<typeof Type.Integer>
      >,
      { additionalProperties: false },
    ),
    timeToDecision: Type.Object(
      {
        overall: Type.Object(Durations, { additionalProperties: false }),
        byPolicy: Type.Array(
          Type.Object({ policy: Type.String(), ...Durations }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false },
    ),
    decisions: Type.Integer(),
    decidedByRequester: Type.Integer({ description: 'Decisions whose decider is the requester.' }),
    breakGlass: Type.Integer({ description: 'Approvals approved at once by break-glass.' }),
    breakGlassReviewsOverdue: Type.Integer({
      description: 'Of those, reviews still open past their deadline.',
    }),
    delegated: Type.Integer({ description: 'Decisions a delegate made for someone away.' }),
    approvers: Type.Array(
      Type.Object(
        {
          approver: Type.String(),
          approved: Type.Integer(),
          rejected: Type.Integer(),
          neverRejects: Type.Boolean({
            description: 'Approved at least 5 times in the period and never rejected: worth a look.',
          }),
        },
        { additionalProperties: false },
      ),
      { description: "Each person's verdicts in the period, the most active first." },
    ),
    resumedBeforeDecision: Type.Integer({
      description: 'Approvals whose workflow resumed before the decision.',
    }),
    policyUnverified: Type.Integer({
      description: 'Approvals whose recorded policy version does not hold up.',
    }),
    chain: Type.Object(
      {
        verified: Type.Boolean({ description: "Every approval's chain verifies." }),
        approvals: Type.Integer(),
        events: Type.Integer(),
        broken: Type.Array(
          Type.Object(
            { approvalId: Type.String(), at: Nullable(BrokenAt), why: Type.String() },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    policyLog: Type.Object(
      {
        verified: Type.Boolean({ description: "Every policy's change log verifies." }),
        entries: Type.Integer(),
        broken: Type.Array(
          Type.Object({ policy: Type.String(), at: BrokenAt }, { additionalProperties: false }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type EvidenceSummary = Static<typeof EvidenceSummarySchema>;

export const EvidencePackSchema = Type.Object(
  {
    generatedAt: Timestamp,
    period: Type.Object(
      { from: Timestamp, to: Timestamp },
      { additionalProperties: false, description: 'From, inclusive, to, exclusive.' },
    ),
    sample: Nullable(
      Type.Object(
        {
          size: Type.Integer(),
          seed: Type.String({ description: 'The same seed picks the same sample (docs/governance.md).' }),
        },
        { additionalProperties: false },
      ),
    ),
    summary: EvidenceSummarySchema,
    policyVersions: Type.Array(
      Type.Object(
        {
          source: Literals(['policy', 'routes']),
          name: Type.String(),
          seq: Type.Integer(),
          version: Nullable(Type.String()),
          firstSeenAt: Timestamp,
        },
        { additionalProperties: false },
      ),
      { description: 'Versions in force during the period: the last before it, and those first seen in it.' },
    ),
    approvals: Type.Array(ApprovalEvidenceSchema, {
      description: 'Every approval of the period, or the sample.',
    }),
  },
  { additionalProperties: false },
);
export type EvidencePack = Static<typeof EvidencePackSchema>;

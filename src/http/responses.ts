import { type TSchema, Type } from '@sinclair/typebox';
import type { ErrorCode } from '../core/errors.js';
import { APPROVAL_STATUSES, CHANNELS } from '../core/model.js';
import { HTTP_STATUS } from './errors.js';

/**
 * What the API answers, as schemas: they describe the responses in the OpenAPI document and
 * make Fastify serialize them. A serializer drops what its schema does not list, so every
 * shape here is either complete or says `additionalProperties: true`.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });
/**
 * One of some strings, as `enum`: the serializer writes it as a string (a union of
 * constants would make it choose, and answer 500 for a value the list misses).
 */
const Literals = <T extends string>(values: readonly T[]) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values] });

const AiReviewView = Type.Object(
  {
    model: Type.String(),
    mode: Literals(['decide', 'advise', 'shadow']),
    // Stored with the approval as the reviewer answered it: required fields would make an
    // older record unanswerable, so only the model is.
    verdict: Type.Optional(Nullable(Literals(['approve', 'reject', 'escalate']))),
    confidence: Type.Optional(Nullable(Type.Number())),
    rationale: Type.Optional(Nullable(Type.String())),
    error: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: true, description: 'What an AI reviewer said.' },
);

const StageView = Type.Object(
  {
    name: Type.String(),
    type: Literals(['human', 'rule', 'ai']),
    status: Literals(['waiting', 'pending', 'passed', 'rejected', 'skipped']),
    gates: Type.Array(
      Type.Object(
        {
          name: Nullable(Type.String({ description: "The gate's label, when its policy names it." })),
          approvers: Type.Array(Type.String()),
          required: Type.Integer(),
          approvals: Type.Array(Type.String(), { description: 'Who approved, counting toward this gate.' }),
        },
        { additionalProperties: false },
      ),
    ),
    inputs: Nullable(
      Type.Unsafe<Record<string, unknown>>({
        type: 'object',
        description:
          'What an approver of this stage fills in when deciding: the JSON Schema subset of its policy.',
      }),
    ),
    result: Nullable(
      Type.Object(
        {
          outcome: Literals(['approve', 'reject', 'pass', 'skip']),
          via: Literals(['rule', 'ai', 'timeout']),
          reason: Type.String(),
          at: Timestamp,
          review: Nullable(AiReviewView),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const InputValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

const DecisionView = Type.Object(
  {
    stage: Type.String(),
    actor: Type.String({ description: 'Who decided: a person, or rule, timeout, ai:MODEL.' }),
    verdict: Literals(['approve', 'reject']),
    comment: Nullable(Type.String()),
    via: Literals(CHANNELS),
    at: Timestamp,
    inputs: Nullable(
      Type.Record(Type.String(), InputValue, {
        description: 'What this approver filled in, for a stage that asks for inputs (defaults added).',
      }),
    ),
    onBehalfOf: Nullable(
      Type.String({
        description:
          'Set when a delegate decided: whose seat the decision fills (the actor decided for them).',
      }),
    ),
  },
  { additionalProperties: false },
);

/** An approval as every route answers it. */
export const ApprovalView = Type.Object(
  {
    id: Type.String({ description: 'apr_ followed by a ULID' }),
    status: Literals(APPROVAL_STATUSES),
    title: Type.String(),
    description: Nullable(Type.String()),
    link: Nullable(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    requester: Nullable(Type.String()),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    decidedAt: Nullable(Timestamp),
    reason: Nullable(Type.String()),
    key: Nullable(Type.String()),
    action: Nullable(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'The action an agent asked to take, as it was given; null when none was named.',
      }),
    ),
    actionHash: Nullable(
      Type.String({
        description:
          'sha256:HEX of the action in RFC 8785 canonical JSON: the decision is for this action only. Check it before acting.',
      }),
    ),
    policyVersion: Nullable(
      Type.String({
        description:
          "sha256:HEX of the policy it was created under: a named policy's version (GET /v1/policies/{name}/versions), or the hash of the inline policy in RFC 8785 canonical JSON. Null for approvals from before 0016.",
      }),
    ),
    callback: Nullable(
      Type.Object(
        { type: Literals(['webhook', 'codepipeline', 'stepfunctions', 'cloudformation', 'github']) },
        { additionalProperties: false, description: 'The kind of callback only: its secrets never leave.' },
      ),
    ),
    stages: Type.Array(StageView),
    decisions: Type.Array(DecisionView),
    resumesAt: Nullable(
      Type.String({
        format: 'date-time',
        description:
          "Set when the approval was approved while its policy's change window was shut: nothing may go ahead before this time (the callback is told then; `signoff wait` waits for it).",
      }),
    ),
    breakGlass: Nullable(
      Type.Object(
        {
          by: Type.String(),
          reason: Type.String(),
          at: Timestamp,
          stage: Type.String({ description: 'The stage that was waiting when the glass was broken.' }),
          reviewers: Type.Array(Type.String(), { description: 'Whom its open gates asked: they review it.' }),
          reviewDueAt: Timestamp,
        },
        {
          additionalProperties: false,
          description:
            'Set when the approval was approved at once by break-glass; its after-review is at GET /v1/break-glass.',
        },
      ),
    ),
    inputs: Type.Record(Type.String(), InputValue, {
      description:
        "The approvers' inputs for the waiting side: approving decisions' values merged in the order they were made (a later one wins). Empty when no stage asks for inputs.",
    }),
    notificationFailures: Type.Array(
      Type.Object(
        {
          channel: Type.String({ description: 'email, slack, …' }),
          to: Type.String({ description: "Who it was for, in the channel's terms." }),
          reason: Type.String(),
          at: Timestamp,
        },
        { additionalProperties: false },
      ),
      { description: "Messages to the approval's people that signoff gave up delivering." },
    ),
  },
  { additionalProperties: false },
);

export const ApprovalList = Type.Object(
  {
    items: Type.Array(ApprovalView),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page.' })),
  },
  { additionalProperties: false },
);

export const AuditList = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          type: Type.String({ description: 'approval.created, approval.decision, …' }),
          actor: Nullable(Type.String()),
          data: Type.Unknown(),
          at: Timestamp,
          seq: Type.Integer({ description: "Position in the approval's chain, from 1." }),
          prevHash: Nullable(Type.String({ description: "The previous event's hash; null for the first." })),
          hash: Type.String({ description: 'SHA-256 over the canonical encoding (docs/security.md).' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const OutboxList = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          approvalId: Nullable(Type.String()),
          kind: Type.String(),
          status: Literals(['pending', 'delivered', 'dead']),
          attempts: Type.Integer(),
          lastError: Nullable(Type.String()),
          createdAt: Timestamp,
          nextAttemptAt: Timestamp,
          deliveredAt: Nullable(Timestamp),
          warning: Type.Optional(
            Type.String({ description: 'Why the message waits: a kind this release does not deliver.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PolicyList = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          description: Nullable(Type.String()),
          allowSelfApproval: Type.Boolean(),
          stages: Type.Array(
            Type.Object(
              {
                name: Type.String(),
                type: Literals(['human', 'rule', 'ai']),
                mode: Type.Optional(Literals(['decide', 'advise', 'shadow'])),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PolicyAgreement = Type.Object(
  {
    policy: Type.String(),
    stages: Type.Array(
      Type.Object(
        {
          stage: Type.String(),
          mode: Literals(['advise', 'shadow']),
          agreed: Type.Integer(),
          disagreed: Type.Integer(),
          escalated: Type.Integer(),
          agreement: Nullable(Type.Number({ description: 'agreed / (agreed + disagreed)' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Where a hash chain stops verifying, as every answer that verifies one says it. */
export const BrokenLinkView = Type.Object(
  {
    id: Type.String({ description: 'The first entry that does not fit.' }),
    seq: Type.Integer(),
    type: Type.String(),
    reason: Literals(['seq_gap', 'prev_hash_mismatch', 'hash_mismatch', 'unchained']),
    why: Type.String({ description: 'The reason in words.' }),
  },
  { additionalProperties: false },
);

export const PolicyVersions = Type.Object(
  {
    policy: Type.String(),
    current: Nullable(
      Type.String({ description: 'The version this instance loaded; null when its file no longer has it.' }),
    ),
    items: Type.Array(
      Type.Object(
        {
          seq: Type.Integer({ description: "Place in the policy's change log, from 1." }),
          version: Nullable(
            Type.String({
              description: 'sha256:HEX of `content`; null when the policy was removed from the file.',
            }),
          ),
          content: Type.Unknown({
            description: 'The policy as signoff compiled it: what the version is the hash of.',
          }),
          firstSeenAt: Type.String({
            format: 'date-time',
            description: 'When an instance first loaded this version after another.',
          }),
          prevHash: Nullable(Type.String()),
          hash: Nullable(
            Type.String({ description: 'SHA-256 over the canonical encoding (docs/governance.md).' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    broken: Nullable(BrokenLinkView),
  },
  { additionalProperties: false },
);

export const HealthStatus = Type.Object(
  { status: Literals(['ok', 'ready', 'unavailable']) },
  { additionalProperties: false },
);

/** What the GitHub App's webhook answers: the approval a deployment asked for, or what was ignored. */
export const GitHubAnswer = Type.Object(
  {
    approvalId: Type.Optional(Type.String()),
    created: Type.Optional(Type.Boolean()),
    ignored: Type.Optional(Type.String({ description: 'The event or action that does nothing here.' })),
  },
  { additionalProperties: false },
);

/** What Slack is answered: nothing, or a modal's `response_action`, as Slack reads it. */
export const SlackAnswer = Type.Unknown({
  description: 'Empty, or an object Slack reads (a modal submission answered with its errors).',
});

export const SnsAnswer = Type.Object(
  {
    confirmed: Type.Optional(Type.Boolean()),
    received: Type.Optional(Type.Boolean()),
    approvalId: Type.Optional(Type.String()),
    created: Type.Optional(Type.Boolean()),
    responded: Type.Optional(Literals(['SUCCESS', 'FAILED'])),
  },
  { additionalProperties: true, description: 'What signoff did with the message.' },
);

/** The error answer of a route, its `code` one of those it may give with this status. */
function errorSchema(codes: readonly ErrorCode[]) {
  return Type.Object(
    {
      error: Type.Object(
        {
          code: Literals(codes),
          message: Type.String({ description: 'For people; match on `code`.' }),
          details: Type.Optional(
            Type.Object(
              {},
              {
                additionalProperties: true,
                description:
                  'invalid_input: `in` and `issues` (every problem, `path` and `message`); inline_policy_forbidden: `fields`.',
              },
            ),
          ),
          requestId: Type.String({ description: 'The reqId of the log line of this request.' }),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false, description: `Codes: ${codes.join(', ')} (see docs/errors.md).` },
  );
}

/** A decision link as its holder sees it. */
const LinkView = Type.Object(
  {
    approver: Type.String({ description: 'Who the link decides as.' }),
    stage: Type.String({ description: 'The stage it decides.' }),
    state: Literals(['usable', 'used', 'expired']),
    expiresAt: Timestamp,
    renewable: Type.Boolean({
      description: 'Whether POST /d/{token}/renew would mail the approver a fresh link.',
    }),
  },
  { additionalProperties: false },
);

/** A spent link's answer: the error, with the link and its approval, so a script can tell why. */
export const SpentLinkAnswer = Type.Object(
  {
    error: errorSchema(['link_expired', 'link_used']).properties.error,
    link: LinkView,
    approval: ApprovalView,
  },
  {
    additionalProperties: false,
    description:
      'Codes: link_expired, link_used (see docs/errors.md), with the link and the approval as they stand.',
  },
);

/** Codes any route may answer: signoff's own failure, or its database being away. */
const ALWAYS: ErrorCode[] = ['internal', 'database_unavailable'];
/** What a route with a credential adds. */
export const GUARDED: ErrorCode[] = [
  'unauthorized',
  'invalid_token',
  'forbidden',
  'identity_provider_unavailable',
];
/** What a route taking a JSON body adds. */
export const WITH_BODY: ErrorCode[] = ['invalid_input', 'unsupported_media_type', 'body_too_large'];

/**
 * Response schemas of a route's errors, one per HTTP status, each listing the codes the
 * route can answer with that status (always `internal` and `database_unavailable`).
 */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...ALWAYS])) {
    const status = HTTP_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].map(([status, list]) => [status, errorSchema(list)]));
}

/** A standing grant: who allowed what again, for whom, how often and until when. */
export const GrantView = Type.Object(
  {
    id: Type.String(),
    approvalId: Type.String({ description: 'The approval it was granted on.' }),
    granter: Type.String(),
    requester: Nullable(Type.String()),
    stage: Type.String(),
    match: Literals(['action', 'tool']),
    actionHash: Nullable(Type.String()),
    tool: Nullable(Type.String()),
    uses: Type.Integer(),
    maxUses: Type.Integer(),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    revokedAt: Nullable(Timestamp),
    revokedBy: Nullable(Type.String()),
    active: Type.Boolean({ description: 'Whether it still approves: not revoked, not expired, uses left.' }),
  },
  { additionalProperties: false },
);

export const GrantList = Type.Object({ items: Type.Array(GrantView) }, { additionalProperties: false });

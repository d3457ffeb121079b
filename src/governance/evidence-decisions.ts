import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { ChainedEvent } from '../core/audit-chain.js';
import type { DecisionRecord, Separation } from '../core/evidence.js';

/**
 * One decision of the evidence pack, field by field. This table is the one place a decision's
 * evidence is defined: each field's schema (the API's answer and the SDK's type), how it is
 * read from the decision, and how the CSV and the HTML report write it. A new field of a
 * decision is a new row here.
 */

/** What a decision's fields are read from. */
export interface DecisionContext {
  readonly decision: DecisionRecord;
  /** Its event on the approval's chain, if the chain has it. */
  readonly event: ChainedEvent | undefined;
  /** When the waiting workflow was told the outcome; null when it was not (or there is none). */
  readonly resumedAt: Date | null;
  readonly separation: Separation;
}

interface DecisionField<S extends TSchema> {
  /** The CSV column and the HTML table's header. */
  readonly header: string;
  readonly schema: S;
  readonly of: (context: DecisionContext) => Static<S>;
  /** As text for CSV and HTML; unless told, a value as it is and null as nothing. */
  readonly text?: (value: Static<S>) => string;
}

const field = <S extends TSchema>(definition: DecisionField<S>) => definition;
const Nullable = <S extends TSchema>(schema: S) => Type.Union([schema, Type.Null()]);
const yesNo = (value: boolean | null) => (value === null ? '' : value ? 'yes' : 'NO');

export const DECISION_FIELDS = {
  stage: field({ header: 'stage', schema: Type.String(), of: (c) => c.decision.stage }),
  decider: field({
    header: 'decider',
    schema: Type.String({ description: 'The person, or rule, timeout, ai:MODEL.' }),
    of: (c) => c.decision.actor,
  }),
  deciderKind: field({
    header: 'decided by',
    schema: Type.Unsafe<DecisionRecord['kind']>({
      type: 'string',
      enum: ['person', 'rule', 'ai', 'timeout'],
    }),
    of: (c) => c.decision.kind,
  }),
  verdict: field({
    header: 'verdict',
    schema: Type.Unsafe<DecisionRecord['verdict']>({ type: 'string', enum: ['approve', 'reject'] }),
    of: (c) => c.decision.verdict,
  }),
  decidedAt: field({
    header: 'decided at',
    schema: Type.String({ format: 'date-time' }),
    of: (c) => c.decision.at.toISOString(),
  }),
  comment: field({ header: 'comment', schema: Nullable(Type.String()), of: (c) => c.decision.comment }),
  via: field({ header: 'via', schema: Type.String(), of: (c) => c.decision.via }),
  onBehalfOf: field({
    header: 'for (delegation)',
    schema: Nullable(
      Type.String({
        description: 'Set when a delegate decided: whose seat the decision filled ("decider for this").',
      }),
    ),
    of: (c) => c.decision.onBehalfOf,
  }),
  deciderToken: field({
    header: 'decider token',
    schema: Nullable(
      Type.String({ description: 'The issuer and subject of the token that proved the decider.' }),
    ),
    of: (c) => c.separation.deciderToken,
  }),
  requester: field({
    header: 'requester compared',
    schema: Nullable(Type.String({ description: 'The requester this decider was compared with.' })),
    of: (c) => c.separation.requester,
  }),
  requesterToken: field({
    header: 'requester token',
    schema: Nullable(Type.String({ description: 'The issuer and subject of the token that asked.' })),
    of: (c) => c.separation.requesterToken,
  }),
  deciderIsRequester: field({
    header: 'decider is requester',
    schema: Nullable(
      Type.Boolean({
        description:
          'Whether the decider is the requester (the same identity or token subject), as deciding compares them; null for a rule, AI or timeout, or when no requester is recorded.',
      }),
    ),
    of: (c) => c.separation.same,
    text: (same) => (same === null ? 'n/a' : same ? 'YES' : 'no'),
  }),
  beforeResume: field({
    header: 'before resume',
    schema: Nullable(
      Type.Boolean({ description: 'Decided before the waiting workflow was resumed; null when none was.' }),
    ),
    of: (c) => (c.resumedAt === null ? null : c.decision.at.getTime() <= c.resumedAt.getTime()),
    text: yesNo,
  }),
  chainSeq: field({
    header: 'chain position',
    schema: Nullable(
      Type.Integer({ description: "The decision's event: its place in the approval's chain." }),
    ),
    of: (c) => c.event?.seq ?? null,
  }),
  chainHash: field({
    header: 'chain hash',
    schema: Nullable(Type.String({ description: "The decision's event's hash." })),
    of: (c) => c.event?.hash ?? null,
  }),
};

type Fields = typeof DECISION_FIELDS;
type FieldName = keyof Fields;
const NAMES = Object.keys(DECISION_FIELDS) as FieldName[];

/** One decision's evidence: a value for every field of the table. */
export type DecisionEvidence = { [K in FieldName]: Static<Fields[K]['schema']> };

/** The schema of one decision's evidence, from the table. */
export const DecisionEvidenceSchema = Type.Object(
  Object.fromEntries(NAMES.map((name) => [name, DECISION_FIELDS[name].schema])) as {
    [K in FieldName]: Fields[K]['schema'];
  },
  { additionalProperties: false },
);

/** Reads every field of one decision. */
export function decisionEvidence(context: DecisionContext): DecisionEvidence {
  return Object.fromEntries(
    NAMES.map((name) => [name, (DECISION_FIELDS[name].of as (c: DecisionContext) => unknown)(context)]),
  ) as DecisionEvidence;
}

/** The headers of a decision's columns, in table order. */
export const DECISION_HEADERS: readonly string[] = NAMES.map((name) => DECISION_FIELDS[name].header);

/** A decision's columns as text, in table order. */
export function decisionCells(evidence: DecisionEvidence): string[] {
  return NAMES.map((name) => {
    const { text } = DECISION_FIELDS[name] as DecisionField<TSchema>;
    const value = evidence[name];
    if (text) return text(value);
    return value === null ? '' : String(value);
  });
}

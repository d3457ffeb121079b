import { Type } from '@sinclair/typebox';
import { APPROVAL_STATUSES } from '../core/model.js';
import { SINGLE_LINE } from '../input-rules.js';
import { DurationSpec } from '../policies/spec.js';

/** A string of one line. Every other string may hold tabs and line breaks, no other control character. */
const Line = (options: { minLength?: number; maxLength: number }) =>
  Type.String({ ...options, format: SINGLE_LINE });

const VerdictSchema = Type.Union([Type.Literal('approve'), Type.Literal('reject')]);

/** An approval's "and the same again": how many uses, for how long, of what. */
export const GrantBody = Type.Object(
  {
    uses: Type.Integer({ minimum: 1, maximum: 1000, description: 'How many later requests it approves.' }),
    /** How long it lasts (at most SIGNOFF_GRANT_MAX_DURATION). */
    for: DurationSpec,
    match: Type.Optional(
      Type.Union([Type.Literal('action'), Type.Literal('tool')], {
        description: '`action` (default): the exact action, by its hash; `tool`: any call of the same tool.',
      }),
    ),
  },
  { additionalProperties: false },
);

const InputValueSchema = Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean()]);

/** What an approver fills in, as JSON: `{"environment": "production", "replicas": 3}`. */
export const InputsBody = Type.Record(
  Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }),
  InputValueSchema,
  {
    maxProperties: 20,
    description: "Values for the stage's inputs (see stages[].inputs); checked against its schema.",
  },
);

/** A form's input fields, `input.NAME`, as text: the `patternProperties` of a form body. */
export const FORM_INPUT_FIELDS = {
  '^input\\.[A-Za-z][A-Za-z0-9_]{0,63}$': Type.String({ maxLength: 2000 }),
};

/** The `input.NAME` fields of a posted form, by NAME; undefined when the body was JSON. */
export function formInputsOf(
  body: object,
  contentType: string | undefined,
): Record<string, string> | undefined {
  if (!contentType?.startsWith('application/x-www-form-urlencoded')) return undefined;
  const inputs: Record<string, string> = {};
  for (const [key, value] of Object.entries(body))
    if (key.startsWith('input.') && typeof value === 'string') inputs[key.slice('input.'.length)] = value;
  return inputs;
}

/** A verdict with an optional comment: the decision-link page's form and JSON. */
export const DecisionBody = Type.Object(
  {
    verdict: VerdictSchema,
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    inputs: Type.Optional(InputsBody),
  },
  {
    additionalProperties: false,
    // The page's form sends each input as its own field.
    patternProperties: FORM_INPUT_FIELDS,
  },
);

/** The API's decision: a verdict, a comment, and with an approval optionally a standing grant. */
export const ApiDecisionBody = Type.Object(
  {
    verdict: VerdictSchema,
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    inputs: Type.Optional(InputsBody),
    grant: Type.Optional(GrantBody),
  },
  { additionalProperties: false },
);

export const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

/** Headers of a create: an Idempotency-Key makes a retried create return the first approval. */
export const CreateApprovalHeaders = Type.Object({
  'idempotency-key': Type.Optional(Line({ minLength: 1, maxLength: 255 })),
});

export const ApprovalParams = Type.Object({ id: Line({ minLength: 1, maxLength: 64 }) });

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(APPROVAL_STATUSES.map((s) => Type.Literal(s)))),
    /** `me`: only approvals whose waiting stage names the caller (or a group of theirs) and awaits them. */
    waiting_for: Type.Optional(Type.Literal('me')),
    /** `me`: only approvals the caller asked for. */
    requested_by: Type.Optional(Type.Literal('me')),
    cursor: Type.Optional(Line({ maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const WaitQuery = Type.Object(
  { timeout: Type.Optional(DurationSpec) },
  { additionalProperties: false },
);

export const TokenParams = Type.Object({ token: Line({ minLength: 1, maxLength: 128 }) });

export const PageQuery = Type.Object(
  { verdict: Type.Optional(VerdictSchema) },
  { additionalProperties: true },
);

export const OutboxQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

import { type Static, Type } from '@sinclair/typebox';
import { APPROVER_PATTERN } from '../core/identity.js';

/** How policies are written, in the API's create body and in the policies file alike. */

export const Approver = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: APPROVER_PATTERN,
  description: 'an identity like user@example.com or group:NAME',
});
/** What a duration looks like, as error messages and the API description say it. */
export const DURATION_HINT = 'a duration like 90s, 15m, 1h or 7d';
export const DurationSpec = Type.Union(
  [Type.String({ pattern: '^\\d+(\\.\\d+)?[smhd]?$', maxLength: 20 }), Type.Integer({ minimum: 1 })],
  { description: DURATION_HINT },
);
const StageName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
  description: 'a name like deploy-review: letters, digits, ".", "_" and "-", at most 64',
});

const GateSpec = Type.Object(
  {
    name: Type.Optional(StageName),
    approvers: Type.Array(Approver, { minItems: 1, maxItems: 50 }),
    required: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  },
  { additionalProperties: false },
);

/** A Slack channel id (C0123ABCD) or name (#deploys). */
export const SlackChannel = Type.String({
  pattern: '^(#[a-z0-9][a-z0-9_-]{0,79}|[CG][A-Z0-9]{6,20})$',
  description: 'a Slack channel id (C0123ABCD) or #name',
});

const SlackStageSpec = Type.Object(
  {
    channel: Type.Optional(SlackChannel),
    directMessages: Type.Optional(
      Type.Boolean({ description: 'each approver by direct message (found by email)' }),
    ),
    groups: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }), SlackChannel, {
        maxProperties: 20,
        description: 'group NAME → the channel where the approvers of group:NAME are told',
      }),
    ),
  },
  { additionalProperties: false },
);

const InputName = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
  description: 'a name like environment or max_replicas',
});

const InputFieldSpec = Type.Object(
  {
    type: Type.Union([
      Type.Literal('string'),
      Type.Literal('number'),
      Type.Literal('integer'),
      Type.Literal('boolean'),
    ]),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    // At most 150 characters: the longest option value Slack takes.
    enum: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 150 }), { minItems: 1, maxItems: 50 }),
    ),
    pattern: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    format: Type.Optional(Type.Literal('date')),
    maxLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })),
    minimum: Type.Optional(Type.Number()),
    maximum: Type.Optional(Type.Number()),
    default: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Number(), Type.Boolean()])),
  },
  { additionalProperties: false },
);

/** What an approver fills in when deciding: a JSON Schema object of simple fields. */
export const InputsSpec = Type.Object(
  {
    type: Type.Optional(Type.Literal('object')),
    properties: Type.Record(InputName, InputFieldSpec, { minProperties: 1, maxProperties: 20 }),
    required: Type.Optional(Type.Array(InputName, { maxItems: 20 })),
  },
  {
    additionalProperties: false,
    description:
      'what approvers fill in: string (enum, pattern, format date, maxLength), number or integer (minimum, maximum), boolean; required; default; description',
  },
);

const HumanStageSpec = Type.Object(
  {
    name: Type.Optional(StageName),
    type: Type.Literal('human'),
    gates: Type.Array(GateSpec, { minItems: 1, maxItems: 10 }),
    timeout: Type.Optional(DurationSpec),
    onTimeout: Type.Optional(
      Type.Union([Type.Literal('reject'), Type.Literal('approve'), Type.Literal('escalate')]),
    ),
    remindAfter: Type.Optional(DurationSpec),
    remindEvery: Type.Optional(DurationSpec),
    escalateAfter: Type.Optional(DurationSpec),
    escalateTo: Type.Optional(Type.Array(Approver, { minItems: 1, maxItems: 20 })),
    slack: Type.Optional(SlackStageSpec),
    inputs: Type.Optional(InputsSpec),
  },
  { additionalProperties: false },
);

const RuleSpec = Type.Object(
  {
    when: Type.String({ minLength: 1, maxLength: 2000, description: 'a CEL expression' }),
    // biome-ignore lint/suspicious/noThenProperty: the contract names this field; a schema is never awaited
    then: Type.Union([Type.Literal('approve'), Type.Literal('reject'), Type.Literal('pass')]),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

const RuleStageSpec = Type.Object(
  {
    name: Type.Optional(StageName),
    type: Type.Literal('rule'),
    rules: Type.Array(RuleSpec, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);

const AiStageSpec = Type.Object(
  {
    name: Type.Optional(StageName),
    type: Type.Literal('ai'),
    mode: Type.Optional(Type.Union([Type.Literal('decide'), Type.Literal('advise'), Type.Literal('shadow')])),
    instructions: Type.Optional(Type.String({ maxLength: 4000 })),
    minConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    canApprove: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type StageSpec =
  | Static<typeof HumanStageSpec>
  | Static<typeof RuleStageSpec>
  | Static<typeof AiStageSpec>;

/**
 * One of the three stage kinds, chosen by `type`: a discriminated `oneOf`, so a mistake is
 * reported against the kind that was meant rather than against all three.
 */
const StageSpecSchema = Type.Unsafe<StageSpec>({
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [HumanStageSpec, RuleStageSpec, AiStageSpec],
});

export const StagesSpec = Type.Array(StageSpecSchema, { minItems: 1, maxItems: 10 });

const ClockTime = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
  description: 'a time like 09:00',
});

/** When an approved change may resume: what waits is told when the window next opens. */
const WindowSpec = Type.Object(
  {
    timezone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'an IANA time zone like Europe/Berlin',
    }),
    days: Type.Array(
      Type.Union(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => Type.Literal(d))),
      { minItems: 1, maxItems: 7, uniqueItems: true },
    ),
    from: ClockTime,
    to: ClockTime,
    outside: Type.Optional(
      Type.Union([Type.Literal('wait'), Type.Literal('reject')], {
        description:
          'wait (default): resume when the window opens; reject: an approval while it is shut is rejected',
      }),
    ),
    freeze: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a local date like 2026-12-24' }),
        {
          maxItems: 366,
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const NamedPolicySpec = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    allowSelfApproval: Type.Optional(Type.Boolean()),
    requireRejectComment: Type.Optional(Type.Boolean()),
    minReviewTime: Type.Optional(DurationSpec),
    window: Type.Optional(WindowSpec),
    timeout: Type.Optional(DurationSpec),
    stages: StagesSpec,
  },
  { additionalProperties: false },
);
export type NamedPolicySpec = Static<typeof NamedPolicySpec>;

export const PolicyName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$',
  description: 'a policy name like production: letters, digits, ".", "_" and "-", at most 100',
});

export const PoliciesFileSpec = Type.Object(
  { policies: Type.Record(PolicyName, NamedPolicySpec, { additionalProperties: false }) },
  { additionalProperties: false },
);

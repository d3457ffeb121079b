import { type Static, Type } from '@sinclair/typebox';
import { EMAIL_PATTERN } from '../core/identity.js';
import { APPROVAL_STATUSES } from '../core/model.js';
import { Approver, DurationSpec, PolicyName, StagesSpec } from '../policies/spec.js';

const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: EMAIL_PATTERN,
  description: 'an email address',
});
const HttpUrl = Type.String({ maxLength: 2000, pattern: '^https?://[^\\s]+$' });

export const WebhookCallbackSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: HttpUrl,
    secret: Type.Optional(
      Type.String({
        pattern: '^whsec_[A-Za-z0-9+/]{24,}={0,2}$',
        maxLength: 200,
        description: 'Standard Webhooks secret: whsec_ followed by base64 of at least 18 random bytes',
      }),
    ),
  },
  { additionalProperties: false },
);

const AwsRegion = Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', maxLength: 30 });

const CallbackSchema = Type.Union([
  WebhookCallbackSchema,
  Type.Object(
    {
      type: Type.Literal('codepipeline'),
      pipelineName: Type.String({ minLength: 1, maxLength: 100 }),
      stageName: Type.String({ minLength: 1, maxLength: 100 }),
      actionName: Type.String({ minLength: 1, maxLength: 100 }),
      token: Type.String({ minLength: 1, maxLength: 200 }),
      region: Type.Optional(AwsRegion),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('stepfunctions'),
      taskToken: Type.String({ minLength: 1, maxLength: 2048 }),
      region: Type.Optional(AwsRegion),
      failOnReject: Type.Optional(Type.Boolean()),
      heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('cloudformation'),
      url: Type.String({ maxLength: 4096, pattern: '^https?://[^\\s]+$' }),
    },
    { additionalProperties: false },
  ),
]);

export const CreateApprovalBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    link: Type.Optional(HttpUrl),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    requester: Type.Optional(Email),
    approvers: Type.Optional(Type.Array(Approver, { minItems: 1, maxItems: 50 })),
    required: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    stages: Type.Optional(StagesSpec),
    policy: Type.Optional(PolicyName),
    allowSelfApproval: Type.Optional(Type.Boolean()),
    timeout: Type.Optional(DurationSpec),
    notify: Type.Optional(Type.Array(Type.Literal('email'), { maxItems: 1 })),
    callback: Type.Optional(CallbackSchema),
    key: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'e.g. web/production: a new approval with the same key cancels the pending older ones',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateApprovalBody = Static<typeof CreateApprovalBody>;

const VerdictSchema = Type.Union([Type.Literal('approve'), Type.Literal('reject')]);

/** A verdict with an optional comment: the API's JSON body and the decision page's form. */
export const DecisionBody = Type.Object(
  {
    verdict: VerdictSchema,
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type DecisionBody = Static<typeof DecisionBody>;

export const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type CancelBody = Static<typeof CancelBody>;

export const ApprovalParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type ApprovalParams = Static<typeof ApprovalParams>;

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(APPROVAL_STATUSES.map((s) => Type.Literal(s)))),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const WaitQuery = Type.Object(
  { timeout: Type.Optional(DurationSpec) },
  { additionalProperties: false },
);
export type WaitQuery = Static<typeof WaitQuery>;

export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) });
export type TokenParams = Static<typeof TokenParams>;

export const PageQuery = Type.Object(
  { verdict: Type.Optional(VerdictSchema) },
  { additionalProperties: true },
);
export type PageQuery = Static<typeof PageQuery>;

export const OutboxQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type OutboxQuery = Static<typeof OutboxQuery>;

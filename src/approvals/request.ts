import { type Static, Type } from '@sinclair/typebox';
import { EMAIL_PATTERN } from '../core/identity.js';
import { SINGLE_LINE } from '../input-rules.js';
import { Approver, DurationSpec, PolicyName, SlackChannel, StagesSpec } from '../policies/spec.js';

/** A string of one line. Every other string may hold tabs and line breaks, no other control character. */
const Line = (options: { minLength?: number; maxLength: number; pattern?: string; description?: string }) =>
  Type.String({ ...options, format: SINGLE_LINE });

const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: EMAIL_PATTERN,
  description: 'an email address like user@example.com',
});
const HttpUrl = Line({
  maxLength: 2000,
  pattern: '^https?://[^\\s]+$',
  description: 'an http(s) URL like https://ci.example.com/runs/42',
});

const WebhookCallbackSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: HttpUrl,
    secret: Type.Optional(
      Type.String({
        pattern: '^whsec_[A-Za-z0-9+/]{24,}={0,2}$',
        maxLength: 200,
        description: 'a Standard Webhooks secret: whsec_ followed by base64 of at least 18 random bytes',
      }),
    ),
  },
  { additionalProperties: false },
);

const AwsRegion = Type.String({
  pattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
  maxLength: 30,
  description: 'an AWS region like eu-west-1',
});

const CallbackSchema = Type.Union([
  WebhookCallbackSchema,
  Type.Object(
    {
      type: Type.Literal('codepipeline'),
      pipelineName: Line({ minLength: 1, maxLength: 100 }),
      stageName: Line({ minLength: 1, maxLength: 100 }),
      actionName: Line({ minLength: 1, maxLength: 100 }),
      token: Line({ minLength: 1, maxLength: 200 }),
      region: Type.Optional(AwsRegion),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('stepfunctions'),
      taskToken: Line({ minLength: 1, maxLength: 2048 }),
      region: Type.Optional(AwsRegion),
      failOnReject: Type.Optional(Type.Boolean()),
      heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('cloudformation'),
      url: Line({
        maxLength: 4096,
        pattern: '^https?://[^\\s]+$',
        description: 'an http(s) URL: the pre-signed ResponseURL CloudFormation gave',
      }),
    },
    { additionalProperties: false },
  ),
]);

/** What asking for an approval takes: the API's create body, and what the AWS intakes build. */
export const CreateApprovalBody = Type.Object(
  {
    title: Line({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    link: Type.Optional(HttpUrl),
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        metadataLimits: true,
        description: 'at most 8 levels deep, 100 keys in all and 16 KiB as JSON',
      }),
    ),
    action: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        actionLimits: true,
        description:
          'what an agent is about to do: { "tool": NAME, "arguments": {…} } or any JSON object. Its SHA-256 (RFC 8785 canonical JSON) binds the decision to it; at most 16 levels deep, 500 keys in all and 32 KiB as JSON',
      }),
    ),
    requester: Type.Optional(Email),
    approvers: Type.Optional(Type.Array(Approver, { minItems: 1, maxItems: 50 })),
    required: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    stages: Type.Optional(StagesSpec),
    policy: Type.Optional(PolicyName),
    allowSelfApproval: Type.Optional(Type.Boolean()),
    /** Tightens only: a reject must carry a comment. */
    requireRejectComment: Type.Optional(Type.Boolean()),
    timeout: Type.Optional(DurationSpec),
    notify: Type.Optional(Type.Array(Type.Literal('email'), { maxItems: 1 })),
    slack: Type.Optional(
      Type.Object(
        {
          channel: Type.Optional(SlackChannel),
          directMessages: Type.Optional(Type.Boolean()),
        },
        {
          additionalProperties: false,
          description:
            'also post every human stage to this Slack channel and/or to each approver; adds no approver',
        },
      ),
    ),
    callback: Type.Optional(CallbackSchema),
    key: Type.Optional(
      Line({
        minLength: 1,
        maxLength: 200,
        description: 'e.g. web/production: a new approval with the same key cancels the pending older ones',
      }),
    ),
  },
  { additionalProperties: false },
);
/** A create request, as its schema has checked it (the API body, or one an intake built). */
export type CreateApprovalRequest = Static<typeof CreateApprovalBody>;

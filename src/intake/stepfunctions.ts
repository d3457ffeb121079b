import { type Static, Type } from '@sinclair/typebox';
import { CreateApprovalBody, type CreateApprovalRequest } from '../approvals/request.js';
import { SignoffError } from '../core/errors.js';
import { findUnacceptableText } from '../input-rules.js';
import { compileOnFirstUse } from '../validation.js';
import { regionOfTopic } from './codepipeline.js';

/** What a `sns:publish.waitForTaskToken` state publishes: a create body and the task token. */
const TaskRequest = Type.Object(
  {
    signoff: Type.Omit(CreateApprovalBody, ['callback']),
    taskToken: Type.String({ minLength: 1, maxLength: 2048 }),
    failOnReject: Type.Optional(Type.Boolean()),
    heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
    /** The task's region, when the topic is in another one (task tokens work only in their own). */
    region: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' })),
  },
  { additionalProperties: false },
);

const validate = compileOnFirstUse<Static<typeof TaskRequest>>(TaskRequest);

/** Whether an SNS message body is a signoff request from Step Functions. */
export function isTaskRequest(message: unknown): boolean {
  return typeof message === 'object' && message !== null && 'signoff' in message && 'taskToken' in message;
}

/** Turns a Step Functions request into an approval request with a task-token callback. */
export function taskApprovalRequest(message: unknown, topicArn: string): CreateApprovalRequest {
  if (!validate(message)) {
    const first = validate.errors?.[0];
    throw new SignoffError(
      'invalid_input',
      `Step Functions request ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}.`,
    );
  }
  const text = findUnacceptableText(message);
  if (text)
    throw new SignoffError('invalid_input', `Step Functions request ${text.path || '/'} ${text.problem}.`);
  const { signoff, taskToken, failOnReject, heartbeatSeconds, region } = message;
  return {
    ...signoff,
    metadata: { source: 'stepfunctions', ...signoff.metadata },
    callback: {
      type: 'stepfunctions',
      taskToken,
      failOnReject,
      heartbeatSeconds,
      region: region ?? regionOfTopic(topicArn),
    },
  };
}

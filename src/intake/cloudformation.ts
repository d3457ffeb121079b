import { type Static, Type } from '@sinclair/typebox';
import type { CreateApprovalRequest } from '../approvals/request.js';
import { parseDuration } from '../core/duration.js';
import { APPROVER_PATTERN } from '../core/identity.js';
import { findUnacceptableText } from '../input-rules.js';
import { compileOnFirstUse } from '../validation.js';

const Url = Type.String({ maxLength: 4096, pattern: '^https?://[^\\s]+$' });

/** A CloudFormation custom resource request, as SNS delivers it. */
const CustomResourceRequest = Type.Object({
  RequestType: Type.Union([Type.Literal('Create'), Type.Literal('Update'), Type.Literal('Delete')]),
  ResponseURL: Url,
  StackId: Type.String({ minLength: 1, maxLength: 2048 }),
  RequestId: Type.String({ minLength: 1, maxLength: 200 }),
  LogicalResourceId: Type.String({ minLength: 1, maxLength: 255 }),
  ResourceType: Type.String({ minLength: 1, maxLength: 255 }),
  PhysicalResourceId: Type.Optional(Type.String({ maxLength: 1024 })),
  ResourceProperties: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type CustomResourceRequest = Static<typeof CustomResourceRequest>;

// CloudFormation passes every property as a string (numbers too), or a list of strings.
const ApprovalProperties = Type.Object({
  WaitHandle: Url,
  Approvers: Type.Union([
    Type.Array(Type.String({ pattern: APPROVER_PATTERN, maxLength: 254 }), { minItems: 1, maxItems: 50 }),
    Type.String({ minLength: 3, maxLength: 5000 }),
  ]),
  Required: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 50 }), Type.String({ pattern: '^[1-9]\\d?$' })]),
  ),
  Title: Type.String({ minLength: 1, maxLength: 200 }),
  Description: Type.Optional(Type.String({ maxLength: 10_000 })),
  Timeout: Type.Optional(Type.String({ pattern: '^\\d+(\\.\\d+)?[smhd]?$', maxLength: 20 })),
});

const validRequest = compileOnFirstUse<CustomResourceRequest>(CustomResourceRequest);
const validProperties = compileOnFirstUse<Static<typeof ApprovalProperties>>(ApprovalProperties);

/** Whether an SNS message body is a CloudFormation custom resource request. */
export function isCustomResourceRequest(message: unknown): message is CustomResourceRequest {
  return validRequest(message);
}

/**
 * The approval a `Custom::Approval` Create asks for, or the reason it cannot be made
 * (which goes back to CloudFormation as FAILED).
 */
export function customResourceApproval(
  request: CustomResourceRequest,
): { ok: true; approval: CreateApprovalRequest } | { ok: false; reason: string } {
  if (request.ResourceType !== 'Custom::Approval')
    return { ok: false, reason: `signoff only handles Custom::Approval, not ${request.ResourceType}.` };
  const properties = { ...request.ResourceProperties };
  delete properties.ServiceToken;
  if (!validProperties(properties)) {
    const error = validProperties.errors?.[0];
    const field = error?.instancePath.split('/')[1] || String(error?.params.missingProperty ?? 'properties');
    return { ok: false, reason: `Property ${field} ${error?.message ?? 'is invalid'}.` };
  }
  const text = findUnacceptableText(properties);
  if (text) return { ok: false, reason: `Property ${text.path.split('/')[1] || 'name'} ${text.problem}.` };
  const approvers =
    typeof properties.Approvers === 'string'
      ? properties.Approvers.split(',')
          .map((a) => a.trim())
          .filter(Boolean)
      : properties.Approvers;
  if (!approvers.every((a) => new RegExp(APPROVER_PATTERN).test(a)))
    return { ok: false, reason: 'Property Approvers must list email addresses or group:NAME.' };
  // A WaitCondition waits 12 hours at most; an approval outliving it could signal nothing.
  if (properties.Timeout && (parseDuration(properties.Timeout) ?? 0) > 12 * 3_600_000)
    return { ok: false, reason: 'Property Timeout must be at most 12h (the longest a WaitCondition waits).' };
  return {
    ok: true,
    approval: {
      title: properties.Title,
      description: properties.Description,
      metadata: {
        source: 'cloudformation',
        stackId: request.StackId,
        logicalResourceId: request.LogicalResourceId,
      },
      approvers,
      required: properties.Required === undefined ? undefined : Number(properties.Required),
      timeout: properties.Timeout ?? '12h',
      callback: { type: 'cloudformation', url: properties.WaitHandle },
    },
  };
}

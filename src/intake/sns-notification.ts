import { createApproval } from '../approvals/create.js';
import { cancelApproval } from '../approvals/lifecycle.js';
import type { CreateApprovalRequest } from '../approvals/request.js';
import { sha256Hex } from '../auth/secrets.js';
import { putToPresignedUrl } from '../callbacks/cloudformation.js';
import { isCloudFormationUrl } from '../core/callback-targets.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import {
  type CustomResourceRequest,
  customResourceApproval,
  isCustomResourceRequest,
} from './cloudformation.js';
import { isPipelineNotification, pipelineApprovalRequest } from './codepipeline.js';
import type { Route } from './routing.js';
import type { SnsEnvelope } from './sns-signature.js';
import { isTaskRequest, taskApprovalRequest } from './stepfunctions.js';

/** Whom approvals from one SNS topic belong to. */
function snsOwner(topicArn: string): string {
  return `credential sns:${topicArn}`;
}

/** Creates the approval an AWS message asks for; `key` makes SNS retries create it once. */
async function createFromAws(
  services: Services,
  request: CreateApprovalRequest,
  topicArn: string,
  key: string,
  mayLoosen: boolean,
) {
  return createApproval(services, request, {
    actor: null,
    mayNameRequester: true,
    mayLoosen,
    // The workflow to resume is the one that published the message (SNS signed it).
    workflowCallbackTrusted: true,
    credentialId: `sns:${topicArn}`,
    owner: snsOwner(topicArn),
    idempotencyKey: key,
    keyIdentifiesRequest: true,
  });
}

/**
 * Answers a CloudFormation custom resource request at its ResponseURL. Create makes the
 * approval (PhysicalResourceId = its id) that will signal the stack's WaitConditionHandle;
 * Delete cancels it if still pending; Update changes nothing. Bad properties answer FAILED.
 * If the answer cannot be delivered, SNS is told to retry: Create is idempotent by RequestId.
 */
async function answerCustomResource(services: Services, request: CustomResourceRequest, topicArn: string) {
  if (!isCloudFormationUrl(services.config.cfnUrlHost, request.ResponseURL))
    throw new SignoffError(
      'invalid_input',
      'The ResponseURL is not on a host allowed by SIGNOFF_CFN_URL_HOST.',
    );
  const respond = (Status: 'SUCCESS' | 'FAILED', PhysicalResourceId: string, Reason: string, Data?: object) =>
    putToPresignedUrl(
      request.ResponseURL,
      {
        Status,
        Reason,
        PhysicalResourceId,
        StackId: request.StackId,
        RequestId: request.RequestId,
        LogicalResourceId: request.LogicalResourceId,
        Data,
      },
      services.config.httpTimeoutMs,
      'Custom resource response',
    );
  const physicalId = request.PhysicalResourceId ?? `signoff-${request.RequestId}`;
  if (request.RequestType === 'Update') {
    await respond('SUCCESS', physicalId, 'signoff approvals are not changed by updates');
    return { responded: 'SUCCESS' };
  }
  if (request.RequestType === 'Delete') {
    // Only the approval this very resource created, through this topic: another approval's id,
    // or one with copied metadata that someone else created, must not be cancelled.
    const approval = physicalId.startsWith('apr_') ? await findApproval(services.db, physicalId) : undefined;
    const ours =
      approval?.callback?.type === 'cloudformation' &&
      approval.owner === sha256Hex(snsOwner(topicArn)) &&
      approval.metadata.stackId === request.StackId &&
      approval.metadata.logicalResourceId === request.LogicalResourceId;
    if (ours && approval.status === 'pending') {
      await cancelApproval(services, physicalId, 'cloudformation', 'the stack is being deleted').catch(
        (error: unknown) => {
          if (!(error instanceof SignoffError && error.code === 'already_decided')) throw error;
        },
      );
    }
    await respond('SUCCESS', physicalId, 'Deleted');
    return { responded: 'SUCCESS' };
  }
  const wanted = customResourceApproval(request);
  if (!wanted.ok) {
    await respond('FAILED', physicalId, wanted.reason);
    return { responded: 'FAILED' };
  }
  let approvalId: string;
  try {
    approvalId = (
      await createFromAws(services, wanted.approval, topicArn, `cloudformation:${request.RequestId}`, false)
    ).approval.id;
  } catch (error) {
    if (!(error instanceof SignoffError) || error.code !== 'invalid_input') throw error;
    await respond('FAILED', physicalId, error.message);
    return { responded: 'FAILED' };
  }
  await respond('SUCCESS', approvalId, 'Waiting for approval', { ApprovalId: approvalId });
  return { responded: 'SUCCESS', approvalId };
}

/**
 * Acts on a verified SNS notification: a CodePipeline manual-approval notification (approvers
 * from the first matching route), a Step Functions request (its own create body and task
 * token), or a CloudFormation custom resource request.
 */
export async function handleSnsNotification(
  services: Services,
  routes: readonly Route[],
  envelope: SnsEnvelope,
) {
  const log = { topic: envelope.TopicArn, messageId: envelope.MessageId };
  let message: unknown;
  try {
    message = JSON.parse(envelope.Message);
  } catch {
    throw new SignoffError('invalid_input', 'The SNS message is not JSON signoff understands.');
  }
  let request: CreateApprovalRequest;
  // Routes are the operator's; a Step Functions body is whoever may publish to the topic.
  let fromOperator = true;
  if (isPipelineNotification(message)) {
    try {
      request = pipelineApprovalRequest(message, envelope.TopicArn, routes, services.now()).request;
    } catch (error) {
      if (error instanceof SignoffError && error.code === 'no_route')
        services.logger.error(
          { ...log, pipeline: message.approval.pipelineName },
          `refused: ${error.message}`,
        );
      throw error;
    }
  } else if (isTaskRequest(message)) {
    request = taskApprovalRequest(message, envelope.TopicArn);
    fromOperator = false;
  } else if (isCustomResourceRequest(message)) {
    return answerCustomResource(services, message, envelope.TopicArn);
  } else {
    throw new SignoffError('invalid_input', 'The SNS message is not a request signoff understands.');
  }
  let result: Awaited<ReturnType<typeof createFromAws>>;
  try {
    result = await createFromAws(services, request, envelope.TopicArn, envelope.MessageId, fromOperator);
  } catch (error) {
    // The sender only sees a status; the operator needs the reason to fix a route or a request.
    if (error instanceof SignoffError)
      services.logger.error(
        { ...log, code: error.code, details: error.details },
        `refused: ${error.message}`,
      );
    throw error;
  }
  const { approval, created } = result;
  services.logger.info({ ...log, approvalId: approval.id, created }, 'approval request received from SNS');
  return { approvalId: approval.id, created };
}

import type { CreateApprovalRequest } from '../approvals/request.js';
import { parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import { findRoute, type Route } from './routing.js';

/** The `approval` part of a CodePipeline manual-approval notification. */
interface PipelineApproval {
  pipelineName: string;
  stageName: string;
  actionName: string;
  token: string;
  expires?: string;
  customData?: string;
  externalEntityLink?: string;
  approvalReviewLink?: string;
}

/** Whether an SNS message body is a CodePipeline manual-approval notification. */
export function isPipelineNotification(
  message: unknown,
): message is { approval: PipelineApproval; region?: string } {
  const approval = (message as { approval?: Record<string, unknown> } | null)?.approval;
  return (
    typeof approval === 'object' &&
    approval !== null &&
    ['pipelineName', 'stageName', 'actionName', 'token'].every(
      (k) => typeof approval[k] === 'string' && approval[k],
    )
  );
}

/** A region name, or undefined when the value is not one (so the SDK is never handed garbage). */
export function validRegion(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z]{2}(-[a-z]+)+-\d$/.test(value) ? value : undefined;
}

/** The region of a topic ARN: arn:aws:sns:REGION:ACCOUNT:NAME. */
export function regionOfTopic(topicArn: string): string | undefined {
  return validRegion(topicArn.split(':')[3]);
}

const HTTP_LINK = /^https?:\/\/\S+$/;

/**
 * Turns a CodePipeline notification into an approval request: approvers from the first
 * matching route, expiry never beyond the action's own, a callback that puts the result.
 */
export function pipelineApprovalRequest(
  notification: { approval: PipelineApproval; region?: string },
  topicArn: string,
  routes: readonly Route[],
  now: Date,
): { request: CreateApprovalRequest; route: Route } {
  const { approval } = notification;
  const subject = {
    topic: topicArn,
    pipeline: approval.pipelineName,
    stage: approval.stageName,
    action: approval.actionName,
  };
  const route = findRoute(routes, subject);
  if (!route)
    throw new SignoffError(
      'no_route',
      `No route in SIGNOFF_ROUTES for pipeline ${approval.pipelineName}, stage ${approval.stageName}, action ${approval.actionName}.`,
    );
  const expires = approval.expires ? Date.parse(approval.expires) : Number.NaN;
  const routeTimeout = route.timeout ? parseDuration(route.timeout) : undefined;
  const untilExpiry = Number.isNaN(expires) ? undefined : expires - now.getTime();
  if (untilExpiry !== undefined && untilExpiry < 1000)
    throw new SignoffError('invalid_input', 'This CodePipeline approval has already expired.');
  const timeoutMs = Math.min(
    routeTimeout ?? Number.POSITIVE_INFINITY,
    untilExpiry ?? Number.POSITIVE_INFINITY,
  );
  const link = [approval.externalEntityLink, approval.approvalReviewLink].find((l) => l && HTTP_LINK.test(l));
  const region = validRegion(notification.region) ?? regionOfTopic(topicArn);
  return {
    route,
    request: {
      title: `Approve ${approval.actionName} in ${approval.pipelineName} / ${approval.stageName}`.slice(
        0,
        200,
      ),
      description: approval.customData?.slice(0, 10_000),
      link,
      metadata: {
        source: 'codepipeline',
        pipeline: approval.pipelineName,
        stage: approval.stageName,
        action: approval.actionName,
        region,
      },
      approvers: route.approvers,
      required: route.required,
      policy: route.policy,
      notify: route.notify,
      timeout: Number.isFinite(timeoutMs) ? Math.max(1, Math.floor(timeoutMs / 1000)) : undefined,
      callback: {
        type: 'codepipeline',
        pipelineName: approval.pipelineName,
        stageName: approval.stageName,
        actionName: approval.actionName,
        token: approval.token,
        region,
      },
    },
  };
}

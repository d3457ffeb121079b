import { type Static, Type } from '@sinclair/typebox';
import { createApproval } from '../approvals/create.js';
import type { CreateApprovalRequest } from '../approvals/request.js';
import { sha256Hex } from '../auth/secrets.js';
import { SignoffError } from '../core/errors.js';
import type { GitHubCallback } from '../core/model.js';
import { enqueue } from '../outbox/enqueue.js';
import type { Services } from '../services.js';
import { runUnitOfWork } from '../unit-of-work/context.js';
import { compileOnFirstUse } from '../validation.js';
import { findRoute, type GitHubRoute, type GitHubRouting } from './routing.js';

const Id = Type.Integer({ minimum: 1 });
// Names that become titles, metadata and GitHub's environment_name: no control character at all.
const Name = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '^\\P{Cc}+$' });
/** Control characters longer text may not hold (tab and line breaks may stay). */
const CONTROL_IN_TEXT = /[^\P{Cc}\t\n]/gu;
const CONTROL_IN_LINE = /\p{Cc}/gu;

// Only the fields signoff reads; GitHub adds fields over time and they are all signed.
const DeploymentProtectionRuleSchema = Type.Object({
  action: Type.String({ maxLength: 50 }),
  environment: Name(255),
  event: Type.Optional(Name(100)),
  deployment_callback_url: Type.String({ maxLength: 2000 }),
  deployment: Type.Object({
    id: Id,
    sha: Type.String({ pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' }),
    ref: Name(255),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
  }),
  pull_requests: Type.Optional(
    Type.Array(
      Type.Object({
        number: Id,
        title: Type.Optional(Type.String({ maxLength: 1000 })),
        html_url: Type.Optional(Type.String({ maxLength: 2000 })),
      }),
      { maxItems: 100 },
    ),
  ),
  repository: Type.Object({
    full_name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$' }),
    html_url: Type.Optional(Type.String({ maxLength: 2000 })),
  }),
  installation: Type.Object({ id: Id }),
  sender: Type.Object({ login: Name(100), id: Id }),
});

/** The part of a `deployment_protection_rule` webhook signoff reads. */
export type DeploymentProtectionRule = Static<typeof DeploymentProtectionRuleSchema>;

const checkRule = compileOnFirstUse(DeploymentProtectionRuleSchema);

/** The webhook body as a deployment protection rule event, or invalid_input naming what is wrong. */
export function parseDeploymentProtectionRule(body: unknown): DeploymentProtectionRule {
  if (checkRule(body)) return body as DeploymentProtectionRule;
  throw new SignoffError('invalid_input', 'The deployment_protection_rule event is not one signoff reads.', {
    details: { issues: (checkRule.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message })) },
  });
}

/**
 * The run a callback URL answers, when the URL is exactly GitHub's endpoint for it under the
 * configured API base and the event's repository; anything else is refused, so a payload can
 * never send an installation token to another host or another repository.
 */
export function runIdOfCallbackUrl(url: string, apiBase: string, repository: string): number {
  const prefix = `${apiBase}/repos/${repository}/actions/runs/`;
  const rest = url.startsWith(prefix) ? url.slice(prefix.length) : '';
  const match = /^(\d{1,20})\/deployment_protection_rule$/.exec(rest);
  const runId = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(runId) || runId < 1)
    throw new SignoffError(
      'invalid_input',
      'deployment_callback_url is not the deployment protection rule endpoint of this repository under SIGNOFF_GITHUB_API_URL.',
    );
  return runId;
}

/** Whom approvals from the GitHub App belong to: supersede stays among them. */
function githubOwner(appId: string): string {
  return `credential github-app:${appId}`;
}

const HTTP_LINK = /^https:\/\/[^\s\p{Cc}]{1,1900}$/u;

/** One deployment's approval request: title, description and metadata from the event. */
function deploymentRequest(
  event: DeploymentProtectionRule,
  route: GitHubRoute,
  requester: string,
  runId: number,
): CreateApprovalRequest {
  const repository = event.repository.full_name;
  const { environment } = event;
  const { ref, sha } = event.deployment;
  const runUrl =
    event.repository.html_url && HTTP_LINK.test(event.repository.html_url)
      ? `${event.repository.html_url}/actions/runs/${runId}`
      : undefined;
  const pulls = event.pull_requests ?? [];
  const description = [
    `${event.sender.login} (${requester}) asks to deploy ${repository} ${ref} to ${environment}.`,
    `Commit: ${sha}`,
    runUrl ? `Workflow run: ${runUrl}` : `Workflow run: ${runId}`,
    event.event ? `Triggered by: ${event.event}` : undefined,
    event.deployment.description
      ? `Deployment: ${event.deployment.description.replace(CONTROL_IN_TEXT, ' ')}`
      : undefined,
    ...pulls.map(
      (p) => `Pull request #${p.number}${p.title ? `: ${p.title.replace(CONTROL_IN_LINE, ' ')}` : ''}`,
    ),
  ]
    .filter((line) => line !== undefined)
    .join('\n');
  const key = `github:${repository}:${environment}`;
  return {
    title: `Deploy ${repository} ${ref} to ${environment}`.slice(0, 200),
    description: description.slice(0, 10_000),
    link: runUrl,
    metadata: {
      source: 'github',
      repository,
      environment,
      ref,
      sha,
      deploymentId: event.deployment.id,
      runId,
      event: event.event,
      actor: event.sender.login,
      pullRequests: pulls.slice(0, 20).map((p) => p.number),
    },
    requester,
    approvers: route.approvers,
    required: route.required,
    policy: route.policy,
    notify: route.notify,
    timeout: route.timeout,
    key: key.length <= 200 ? key : `github:${sha256Hex(`${repository}\n${environment}`)}`,
  };
}

/**
 * What identifies one request for a deployment: its run, environment and deployment, all
 * inside the signed body. The X-GitHub-Delivery header is not signed: a captured body sent
 * again under a new delivery id must still be the same request, or it could supersede the
 * deployment that waits now.
 */
function requestIdentity(event: DeploymentProtectionRule, runId: number): string {
  return sha256Hex(
    [event.repository.full_name, runId, event.environment, event.deployment.id, event.installation.id].join(
      '\n',
    ),
  );
}

/**
 * Rejects a deployment signoff makes no approval for, with the reason as the run's comment.
 * Queued once per request: a redelivery does not comment twice.
 */
async function queueRefusal(services: Services, target: GitHubCallback, identity: string, why: string) {
  const { type: _, ...rest } = target;
  await runUnitOfWork(services, (unit) =>
    enqueue(
      unit,
      'github-answer',
      { approvalId: null, target: rest, refusal: `signoff refused this deployment: ${why}` },
      { id: `msg_gh_${identity.slice(0, 32)}` },
    ),
  );
}

/**
 * Turns a verified `deployment_protection_rule` (`requested`) event into an approval: approvers
 * or policy from the first matching GitHub route, the GitHub user who triggered it as the
 * requester (through `github.people`), the run as the callback. A redelivery, or the same
 * signed body under another delivery id, returns the first approval. A newer deployment to
 * the same repository and environment supersedes the older pending one.
 */
export async function handleDeploymentProtectionRule(
  services: Services,
  routing: GitHubRouting,
  event: DeploymentProtectionRule,
  deliveryId: string,
): Promise<{ approvalId: string; created: boolean }> {
  const { config, logger } = services;
  const repository = event.repository.full_name;
  const runId = runIdOfCallbackUrl(event.deployment_callback_url, config.githubApiUrl, repository);
  const target: GitHubCallback = {
    type: 'github',
    installationId: event.installation.id,
    repository,
    runId,
    environment: event.environment,
  };
  const identity = requestIdentity(event, runId);
  const log = { deliveryId, repository, environment: event.environment, runId, actor: event.sender.login };
  const route = findRoute(routing.routes, { repository, environment: event.environment });
  if (!route) {
    const why = `no route in SIGNOFF_ROUTES (github.routes) for repository ${repository}, environment ${event.environment}`;
    logger.error(log, `refused: ${why}`);
    await queueRefusal(services, target, identity, `${why}.`);
    throw new SignoffError(
      'no_route',
      `No GitHub route for ${repository}, environment ${event.environment}.`,
    );
  }
  const requester = routing.people.get(event.sender.login.toLowerCase());
  if (!requester) {
    const why = `GitHub user ${event.sender.login} is not in github.people of SIGNOFF_ROUTES, so nobody can tell whether an approver is approving their own deployment`;
    logger.error(log, `refused: ${why}`);
    await queueRefusal(services, target, identity, `${why}.`);
    throw new SignoffError(
      'unknown_requester',
      `GitHub user ${event.sender.login} is not mapped to a person.`,
    );
  }
  const appId = config.githubAppId ?? '';
  let result: Awaited<ReturnType<typeof createApproval>>;
  try {
    result = await createApproval(services, deploymentRequest(event, route, requester, runId), {
      actor: null,
      mayNameRequester: true,
      // Routes are the operator's, like the AWS routes.
      mayLoosen: true,
      workflowCallbackTrusted: true,
      intakeCallback: target,
      credentialId: `github-app:${appId}`,
      owner: githubOwner(appId),
      idempotencyKey: `github:${identity}`,
      keyIdentifiesRequest: true,
    });
  } catch (error) {
    if (error instanceof SignoffError)
      logger.error({ ...log, code: error.code, details: error.details }, `refused: ${error.message}`);
    throw error;
  }
  const { approval, created } = result;
  logger.info({ ...log, approvalId: approval.id, created }, 'approval request received from GitHub');
  return { approvalId: approval.id, created };
}

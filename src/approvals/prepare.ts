import { sha256Hex } from '../auth/secrets.js';
import type { DocumentIssue } from '../config-file.js';
import { newApproval } from '../core/approval.js';
import { isCloudFormationUrl } from '../core/callback-targets.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import type { Approval, Callback, Policy } from '../core/model.js';
import { advance } from '../core/stages.js';
import { findLoneSurrogate } from '../input-rules.js';
import { compileStages } from '../policies/compile.js';
import { DURATION_HINT, type StageSpec } from '../policies/spec.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import { bindAction, policyHash } from './action.js';
import { looseningFields } from './loosening.js';
import type { CreateApprovalRequest } from './request.js';

export interface CreateContext {
  /** Who asks: the authenticated actor, used when the body names no requester. */
  readonly actor: string | null;
  /**
   * Whether the body may name someone else as requester: only machine credentials (no
   * identity of their own) and admins may, or anyone could dodge the self-approval rule.
   */
  readonly mayNameRequester: boolean;
  /**
   * Whether the request may ask for a gate looser than people deciding (rule and AI stages,
   * `onTimeout: approve`, self-approval, no mail): only credentials trusted with inline
   * policies, and routes an operator wrote. Named policies are the server's, so always allowed.
   */
  readonly mayLoosen: boolean;
  /**
   * The callback was attached by an AWS intake from the workflow's own message (a task token,
   * a WaitConditionHandle), not chosen by the caller: it does not count as loosening.
   */
  readonly workflowCallbackTrusted?: boolean | undefined;
  /**
   * A callback an intake built from a verified message (a GitHub deployment protection rule),
   * which no request body can name: used instead of the body's, which must then be empty.
   */
  readonly intakeCallback?: Callback | undefined;
  /** The named policies this caller is pinned to; undefined when it may use any gate. */
  readonly allowedPolicies?: readonly string[] | undefined;
  /** Scope of idempotency keys: one caller's key never collides with another's. */
  readonly credentialId: string;
  /** Whom the approval will belong to (see `ownerScope`): supersede and cancel stay within it. */
  readonly owner: string;
  /** The issuer and subject of the token that asks, when a token does. */
  readonly token?: { readonly issuer: string; readonly subject: string } | undefined;
  readonly idempotencyKey?: string | undefined;
  /**
   * The key alone identifies the request (an SNS MessageId): a replay returns the first
   * approval even if the body was derived differently (e.g. a timeout counted from now).
   */
  readonly keyIdentifiesRequest?: boolean | undefined;
}

/** The policy a request asks for: a named one, inline stages, or approvers as one human stage. */
function buildPolicy(
  services: Services,
  request: CreateApprovalRequest,
): { policy: Policy; timeoutMs?: number | undefined; version?: string | undefined } {
  const given = [request.approvers, request.stages, request.policy].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new SignoffError('invalid_input', 'Give exactly one of approvers, stages or policy.');
  if (request.required !== undefined && request.approvers === undefined)
    throw new SignoffError(
      'invalid_input',
      'required goes with approvers; a policy or stages set it per gate.',
    );
  if (request.policy !== undefined) {
    const named = services.policies.get(request.policy);
    if (!named) throw new SignoffError('invalid_input', `There is no policy named "${request.policy}".`);
    // A request may not loosen a policy the team wrote down.
    if (request.allowSelfApproval !== undefined)
      throw new SignoffError('invalid_input', `allowSelfApproval is set by the policy "${named.name}".`);
    // Asking for a comment on reject only tightens, so a request may add it to a named policy.
    const policy = request.requireRejectComment
      ? { ...named.policy, requireRejectComment: true }
      : named.policy;
    return { policy, timeoutMs: named.timeoutMs, version: named.version };
  }
  // `approvers` + `required` is one human stage with one gate, compiled like any other.
  const stages: StageSpec[] = request.approvers
    ? [
        {
          name: 'approval',
          type: 'human',
          gates: [{ approvers: request.approvers, required: request.required ?? 1 }],
        },
      ]
    : (request.stages ?? []);
  const compiled = compileStages(stages, ['stages'], {
    aiConfigured: Boolean(services.config.aiUrl),
    identity: services.config.identity,
    slackConfigured: Boolean(services.config.slackBotToken),
  });
  // For `approvers`, a gate's problem is the body's `required`.
  const pathOf = (issue: DocumentIssue) => (request.approvers ? '/required' : `/${issue.path.join('/')}`);
  const first = compiled.issues[0];
  if (first)
    throw new SignoffError('invalid_input', `body${pathOf(first)} ${first.message}`, {
      details: { issues: compiled.issues.map((i) => ({ path: pathOf(i), message: i.message })) },
    });
  return {
    policy: {
      stages: compiled.stages,
      allowSelfApproval: request.allowSelfApproval ?? false,
      ...(request.requireRejectComment ? { requireRejectComment: true } : {}),
    },
  };
}

/**
 * Adds the Slack notification a request asks for to every human stage. Notification only:
 * it never adds an approver, so it cannot loosen the gate.
 */
function withRequestedSlack(
  services: Services,
  policy: Policy,
  slack: CreateApprovalRequest['slack'],
): Policy {
  if (!slack) return policy;
  if (!services.config.slackBotToken)
    throw new SignoffError(
      'invalid_input',
      'body/slack: Slack is not configured on this server (SIGNOFF_SLACK_BOT_TOKEN).',
    );
  const stages = policy.stages.map((stage) => {
    if (stage.type !== 'human') return stage;
    const channels = [...(stage.slack?.channels ?? []), ...(slack.channel ? [slack.channel] : [])];
    const directMessages = (stage.slack?.directMessages ?? false) || (slack.directMessages ?? false);
    return { ...stage, slack: { channels: [...new Set(channels)], directMessages } };
  });
  return { ...policy, stages };
}

function timeoutMs(
  services: Services,
  timeout: string | number | undefined,
  policyTimeoutMs?: number,
): number {
  if (timeout === undefined)
    return Math.min(policyTimeoutMs ?? services.config.defaultTimeoutMs, services.config.maxTimeoutMs);
  const ms = parseDuration(timeout);
  if (ms === undefined || ms <= 0)
    throw new SignoffError('invalid_input', `timeout must be ${DURATION_HINT}.`, {
      details: { issues: [{ path: '/timeout', message: `timeout must be ${DURATION_HINT}` }] },
    });
  if (ms > services.config.maxTimeoutMs) {
    const message = `timeout must be at most ${formatDuration(services.config.maxTimeoutMs)}, the longest this server allows (SIGNOFF_MAX_TIMEOUT)`;
    throw new SignoffError('invalid_input', `${message}.`, {
      details: { in: 'body', issues: [{ path: '/timeout', message }] },
    });
  }
  return ms;
}

/** Refuses a request whose gate this caller may not ask for: a looser one, or one its pin excludes. */
function checkGate(request: CreateApprovalRequest, context: CreateContext): void {
  const pinned = context.allowedPolicies;
  if (pinned && (request.policy === undefined || !pinned.includes(request.policy)))
    throw new SignoffError(
      'policy_not_allowed',
      `This credential may only create approvals with the named ${pinned.length === 1 ? 'policy' : 'policies'} ${pinned.map((p) => `"${p}"`).join(', ') || '(none)'}.`,
    );
  if (context.mayLoosen) return;
  const fields = looseningFields(request, { workflowCallbackTrusted: context.workflowCallbackTrusted });
  if (fields.length > 0)
    throw new SignoffError(
      'inline_policy_forbidden',
      `This credential may not loosen the gate it asks for (${fields.map((f) => `${f.path}: ${f.why}`).join('; ')}); use a named policy, or a credential with approvals:inline-policy.`,
      { details: { fields } },
    );
}

/**
 * The approval a request would create, checked as creating checks it (who may ask, the gate
 * this caller may ask for, the callback) and with the rule stages at its front evaluated: a
 * docs-only change comes back approved. Nothing is stored.
 */
export async function prepareApproval(
  services: Services,
  request: CreateApprovalRequest,
  context: CreateContext,
  now: Date,
): Promise<Approval> {
  const { identity } = services.config;
  // The API refuses it with the rest of a body's checks; this also holds for what an intake
  // built from a message (a pipeline's custom data): the store keeps exactly what is answered and audited.
  const surrogate = findLoneSurrogate(request);
  if (surrogate !== undefined)
    throw new SignoffError(
      'invalid_input',
      `${surrogate ? `The request's ${surrogate.slice(1)}` : 'The request'} holds a lone UTF-16 surrogate, which is not text.`,
    );
  const requester = request.requester ?? context.actor;
  if (
    request.requester &&
    !context.mayNameRequester &&
    normalizeIdentity(request.requester, identity) !== normalizeIdentity(context.actor ?? '', identity)
  )
    throw new SignoffError('forbidden', 'This credential may only request approvals as itself.');
  checkGate(request, context);
  if (context.intakeCallback && request.callback)
    throw new SignoffError('invalid_input', 'This request has its callback from the intake; give none.');
  if (
    request.callback?.type === 'cloudformation' &&
    !isCloudFormationUrl(services.config.cfnUrlHost, request.callback.url)
  )
    throw new SignoffError(
      'invalid_input',
      'callback.url must be a CloudFormation WaitConditionHandle URL (a host allowed by SIGNOFF_CFN_URL_HOST).',
    );
  if (request.callback?.type === 'webhook') await services.egress.assertAllowed(request.callback.url);
  const built = buildPolicy(services, request);
  const policy = withRequestedSlack(services, built.policy, request.slack);
  const created = newApproval(
    {
      title: request.title,
      description: request.description,
      link: request.link,
      metadata: request.metadata,
      requester: requester === null ? null : normalizeIdentity(requester, identity),
      requesterToken: context.token,
      policy,
      callback: context.intakeCallback ?? request.callback,
      notify: request.notify,
      timeoutMs: timeoutMs(services, request.timeout, built.timeoutMs),
      supersedeKey: request.key,
      owner: sha256Hex(context.owner),
      action: request.action ? bindAction(request.action) : null,
      // A named policy's version even when the request added a reject comment or Slack to it
      // (they only tighten or notify, and the approval keeps its policy whole); else the
      // hash of the policy the request spelled out.
      policyVersion: built.version ?? policyHash(policy),
    },
    now,
    services.newId('apr'),
  );
  // Rule stages at the front decide at once: a docs-only change is approved before anyone is mailed.
  return advance(created, now, reviewRules);
}

import { sha256Hex } from '../auth/secrets.js';
import { cancel, newApproval } from '../core/approval.js';
import { parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import { normalizeApprover, normalizeIdentity } from '../core/identity.js';
import type { Approval, Callback, Policy } from '../core/model.js';
import { advance } from '../core/stages.js';
import { compileStages } from '../policies/compile.js';
import type { StageSpec } from '../policies/spec.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import {
  findApproval,
  findApprovalByIdempotencyKey,
  findPendingIdsByKey,
  insertApproval,
} from '../store/approvals.js';
import { type Db, isUniqueViolation } from '../store/database.js';
import { audit } from './audit.js';
import { queueHeartbeat, queueWebhookEvent } from './messages.js';
import { VersionConflict } from './transaction.js';
import { commitTransition, recordProgress } from './transition.js';

/** The create body, as the HTTP schema has already checked it. */
export interface CreateApprovalRequest {
  title: string;
  description?: string;
  link?: string;
  metadata?: Record<string, unknown>;
  requester?: string;
  /** Exactly one of: `approvers` (+ `required`), inline `stages`, or a named `policy`. */
  approvers?: string[];
  required?: number;
  stages?: StageSpec[];
  policy?: string;
  allowSelfApproval?: boolean;
  timeout?: string | number;
  notify?: string[];
  callback?: Callback;
  key?: string;
}

export interface CreateContext {
  /** Who asks: the authenticated actor, used when the body names no requester. */
  readonly actor: string | null;
  /**
   * Whether the body may name someone else as requester: only machine credentials (no
   * identity of their own) and admins may, or anyone could dodge the self-approval rule.
   */
  readonly mayNameRequester: boolean;
  /** Scope of idempotency keys: one caller's key never collides with another's. */
  readonly credentialId: string;
  readonly idempotencyKey?: string | undefined;
  /**
   * The key alone identifies the request (an SNS MessageId): a replay returns the first
   * approval even if the body was derived differently (e.g. a timeout counted from now).
   */
  readonly keyIdentifiesRequest?: boolean | undefined;
}

function simplePolicy(approvers: string[], required: number, allowSelfApproval: boolean): Policy {
  const unique = [...new Set(approvers.map(normalizeApprover))];
  if (!unique.some((a) => a.startsWith('group:')) && required > unique.length)
    throw new SignoffError(
      'invalid_input',
      `required (${required}) is more than the number of approvers (${unique.length}).`,
    );
  return {
    stages: [{ name: 'approval', type: 'human', gates: [{ approvers: unique, required }] }],
    allowSelfApproval,
  };
}

/** The policy a request asks for: a named one, inline stages, or approvers as one human stage. */
function buildPolicy(
  services: Services,
  request: CreateApprovalRequest,
): { policy: Policy; timeoutMs?: number | undefined } {
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
    return { policy: named.policy, timeoutMs: named.timeoutMs };
  }
  const allowSelfApproval = request.allowSelfApproval ?? false;
  if (request.approvers)
    return { policy: simplePolicy(request.approvers, request.required ?? 1, allowSelfApproval) };
  const compiled = compileStages(request.stages ?? [], ['stages'], {
    aiConfigured: Boolean(services.config.aiUrl),
  });
  const first = compiled.issues[0];
  if (first)
    throw new SignoffError('invalid_input', `body/${first.path.join('/')} ${first.message}`, {
      details: { issues: compiled.issues.map((i) => ({ path: `/${i.path.join('/')}`, message: i.message })) },
    });
  return { policy: { stages: compiled.stages, allowSelfApproval } };
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
    throw new SignoffError(
      'invalid_input',
      'timeout must be a duration such as 90s, 15m, 1h, 7d or seconds.',
    );
  if (ms > services.config.maxTimeoutMs)
    throw new SignoffError('invalid_input', 'timeout is longer than SIGNOFF_MAX_TIMEOUT allows.');
  return ms;
}

/** Whether a URL may receive CloudFormation signals: only pre-signed S3 hosts, never internal ones. */
export function isCloudFormationUrl(services: Services, url: string): boolean {
  try {
    return services.config.cfnUrlHost.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Cancels the pending approvals that carry the new one's key, in the creating transaction:
 * an approval of an old commit must not ship a new one. Their callbacks are told.
 */
async function supersede(tx: Db, services: Services, newer: Approval, now: Date): Promise<string[]> {
  const cancelled: string[] = [];
  for (const id of await findPendingIdsByKey(tx, newer.supersedeKey as string)) {
    const older = await findApproval(tx, id);
    const result = older && cancel(older, now, 'signoff', `superseded by ${newer.id}`);
    if (!older || !result?.ok) continue;
    await commitTransition(tx, services, { before: older, after: result.approval, actor: null, now });
    cancelled.push(id);
  }
  return cancelled;
}

/**
 * Creates an approval with its audit event and queued notifications in one transaction.
 * A repeated Idempotency-Key with the same body returns the first approval.
 */
export async function createApproval(
  services: Services,
  request: CreateApprovalRequest,
  context: CreateContext,
): Promise<{ approval: Approval; created: boolean }> {
  if (
    request.requester &&
    !context.mayNameRequester &&
    normalizeIdentity(request.requester) !== normalizeIdentity(context.actor ?? '')
  )
    throw new SignoffError('forbidden', 'This credential may only request approvals as itself.');
  if (request.callback?.type === 'cloudformation' && !isCloudFormationUrl(services, request.callback.url))
    throw new SignoffError(
      'invalid_input',
      'callback.url must be a CloudFormation WaitConditionHandle URL (a host allowed by SIGNOFF_CFN_URL_HOST).',
    );
  if (request.callback?.type === 'webhook') await services.egress.assertAllowed(request.callback.url);
  const now = services.now();
  const { policy, timeoutMs: policyTimeoutMs } = buildPolicy(services, request);
  const created = newApproval(
    {
      title: request.title,
      description: request.description,
      link: request.link,
      metadata: request.metadata,
      requester: request.requester ?? context.actor,
      policy,
      callback: request.callback,
      notify: request.notify,
      timeoutMs: timeoutMs(services, request.timeout, policyTimeoutMs),
      supersedeKey: request.key,
    },
    now,
    services.newId('apr'),
  );
  // Rule stages at the front decide at once: a docs-only change is approved before anyone is mailed.
  const approval = advance(created, now, reviewRules);
  const idempotency = context.idempotencyKey
    ? {
        // Hashed: a token's issuer#subject can be far longer than the column (GitHub's are).
        owner: sha256Hex(context.credentialId),
        key: context.idempotencyKey,
        requestHash: sha256Hex(JSON.stringify(request)),
      }
    : undefined;

  let superseded: string[] = [];
  const attempt = () =>
    services.db.transaction().execute(async (tx) => {
      if (idempotency) {
        const earlier = await findApprovalByIdempotencyKey(tx, idempotency.owner, idempotency.key);
        if (earlier) {
          if (!context.keyIdentifiesRequest && earlier.request_hash !== idempotency.requestHash)
            throw new SignoffError(
              'idempotency_conflict',
              'This Idempotency-Key was used with a different request.',
            );
          const existing = await findApproval(tx, earlier.id);
          if (!existing) throw new Error(`Idempotency row points at missing approval ${earlier.id}`);
          return { approval: existing, created: false };
        }
      }
      superseded = approval.supersedeKey ? await supersede(tx, services, approval, now) : [];
      await insertApproval(tx, approval, idempotency);
      await audit(
        tx,
        services,
        approval.id,
        'approval.created',
        approval.requester,
        { title: approval.title },
        now,
      );
      await queueWebhookEvent(tx, services, approval, 'approval.created', now);
      await recordProgress(tx, services, {
        before: null,
        after: approval,
        actor: approval.requester,
        now,
        byHuman: false,
      });
      if (approval.status === 'pending') await queueHeartbeat(tx, approval, 1, now);
      return { approval, created: true };
    });
  let result: Awaited<ReturnType<typeof attempt>>;
  try {
    result = await attempt();
  } catch (error) {
    // Two requests with one key raced past the lookup (the loser now finds the winner's
    // approval), or a superseded approval changed under us: once more from the start.
    if (!(error instanceof VersionConflict) && !(idempotency && isUniqueViolation(error))) throw error;
    result = await attempt();
  }
  if (result.created) {
    services.wakeDispatcher();
    // Waiters on superseded approvals wake up too (a no-op for the others).
    for (const id of superseded) services.changes.publish(id);
  }
  return result;
}

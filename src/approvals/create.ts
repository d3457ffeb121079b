import { sha256Hex } from '../auth/secrets.js';
import { cancel } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
import {
  findApproval,
  findApprovalByIdempotencyKey,
  findPendingIdsByKey,
  type IdempotencyTag,
  insertApproval,
  lockSupersedeKey,
} from '../store/approvals.js';
import { isUniqueViolation } from '../store/database.js';
import { audit } from '../unit-of-work/audit.js';
import { runUnitOfWork, type UnitOfWork } from '../unit-of-work/context.js';
import { queueHeartbeat, queueWebhookEvent } from './messages.js';
import { type CreateContext, prepareApproval } from './prepare.js';
import type { CreateApprovalRequest } from './request.js';
import { useStandingGrants } from './standing-grants.js';
import { retryOnConflict } from './transaction.js';
import { commitTransition, recordProgress } from './transition.js';

/**
 * Cancels the pending approvals that carry the new one's key, in the creating transaction:
 * an approval of an old commit must not ship a new one. Their callbacks are told.
 */
async function supersede(unit: UnitOfWork, newer: Approval, owner: string, key: string): Promise<void> {
  // Creates with one key wait for each other here, so each supersedes the one before it.
  await lockSupersedeKey(unit.db, owner, key);
  for (const id of await findPendingIdsByKey(unit.db, owner, key)) {
    const older = await findApproval(unit.db, id);
    const result = older && cancel(older, unit.now, 'signoff', `superseded by ${newer.id}`);
    if (!older || !result?.ok) continue;
    await commitTransition(unit, { before: older, after: result.approval, actor: null });
  }
}

const MAX_CREATE_ATTEMPTS = 5;

/**
 * The approval an earlier request with this Idempotency-Key created, if any; the same key with
 * a different request is refused.
 */
async function findByIdempotencyKey(
  unit: UnitOfWork,
  idempotency: IdempotencyTag,
  keyIdentifiesRequest: boolean | undefined,
): Promise<Approval | undefined> {
  const earlier = await findApprovalByIdempotencyKey(unit.db, idempotency.owner, idempotency.key);
  if (!earlier) return undefined;
  if (!keyIdentifiesRequest && earlier.request_hash !== idempotency.requestHash)
    throw new SignoffError('idempotency_conflict', 'This Idempotency-Key was used with a different request.');
  const existing = await findApproval(unit.db, earlier.id);
  if (!existing) throw new Error(`Idempotency row points at missing approval ${earlier.id}`);
  return existing;
}

/**
 * Stores a new approval with what it causes: the approvals it supersedes cancelled, its audit
 * event, its first messages, and the standing grants that approve it at once.
 */
async function storeApproval(
  unit: UnitOfWork,
  approval: Approval,
  idempotency: IdempotencyTag | undefined,
): Promise<Approval> {
  if (approval.supersedeKey && approval.owner)
    await supersede(unit, approval, approval.owner, approval.supersedeKey);
  await insertApproval(unit.db, approval, idempotency);
  // Open inboxes of the people it asks hear of it (src/http/web/inbox-feed.ts).
  unit.afterCommit.publishChange(approval.id);
  await audit(unit, approval.id, {
    type: 'approval.created',
    actor: approval.requester,
    // On the chain, so the version recorded in the approval's row can be checked against it.
    data: { title: approval.title, policyVersion: approval.policyVersion },
  });
  await queueWebhookEvent(unit, approval, 'approval.created');
  await recordProgress(unit, {
    before: null,
    after: approval,
    actor: approval.requester,
    byHuman: false,
  });
  if (approval.status === 'pending') await queueHeartbeat(unit, approval, 1);
  // An approver's standing grant for this very action gives their approval at once.
  return useStandingGrants(unit, approval);
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
  const now = services.now();
  const approval = await prepareApproval(services, request, context, now);
  const idempotency = context.idempotencyKey
    ? {
        // Hashed: a token's issuer#subject can be far longer than the column (GitHub's are).
        owner: sha256Hex(context.credentialId),
        key: context.idempotencyKey,
        requestHash: sha256Hex(JSON.stringify(request)),
      }
    : undefined;
  const attempt = () =>
    runUnitOfWork(
      services,
      async (unit) => {
        const earlier =
          idempotency && (await findByIdempotencyKey(unit, idempotency, context.keyIdentifiesRequest));
        if (earlier) return { approval: earlier, created: false };
        return { approval: await storeApproval(unit, approval, idempotency), created: true };
      },
      { now },
    );
  // Two requests with one Idempotency-Key raced past the lookup (the loser now finds the
  // winner's approval), or a superseded approval changed under us: again from the start.
  return retryOnConflict(attempt, { lost: isUniqueViolation, attempts: MAX_CREATE_ATTEMPTS });
}

// Break-glass and its after-review, as a principal: the one place that approves past the gate,
// and so the one place that makes it loud (audit, metrics, mail to whom it skipped).
import { hasUnrestrictedPermission, type Principal, permitsApproval } from '../auth/principal.js';
import {
  type BreakGlassReview,
  breakGlass,
  mayReview,
  type ReviewStatus,
  type ReviewVerdict,
} from '../core/break-glass.js';
import { SignoffError } from '../core/errors.js';
import { isMailable, normalizeIdentity } from '../core/identity.js';
import type { Actor, Approval } from '../core/model.js';
import { matchesApprover } from '../core/stages.js';
import { policyLabel } from '../observer.js';
import { enqueue } from '../outbox/enqueue.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import {
  closeBreakGlassReview,
  findBreakGlassReview,
  insertBreakGlassReview,
  listBreakGlassReviews,
} from '../store/break-glass.js';
import { audit } from '../unit-of-work/audit.js';
import { actorOf, loadPermitted } from './as-principal.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/**
 * The person breaking or reviewing the glass, spelled as deciding spells people. A machine
 * (a token for a `subject:`, a rule that says machine) or a token that names no verified
 * person is nobody who could answer for it.
 */
function personOf(services: Services, principal: Principal): Actor {
  const actor = actorOf(principal);
  const machine = principal.grants.some((grant) => grant.machine) || actor?.id.startsWith('subject:');
  if (!actor || machine || principal.unidentifiedPerson)
    throw new SignoffError(
      'forbidden',
      'Breaking the glass, or reviewing it, needs a person: this credential names nobody who could answer for it.',
    );
  return { ...actor, id: normalizeIdentity(actor.id, services.config.identity) };
}

/** Approves at once, with a reason; opens the after-review and tells whom the gate still asked. */
export async function breakGlassAs(
  services: Services,
  principal: Principal,
  id: string,
  reason: string,
): Promise<Approval> {
  const actor = personOf(services, principal);
  await loadPermitted(services, principal, 'approvals:break-glass', id);
  return withApproval(services, id, async (unit, approval) => {
    const result = breakGlass(approval, actor, reason, unit.now, services.config.breakGlassReviewMs);
    if (!result.ok) throw new SignoffError(result.code, result.message);
    const { broken } = result;
    await audit(unit, id, {
      type: 'approval.break_glass',
      actor: broken.by,
      data: {
        reason: broken.reason,
        stage: broken.stage,
        reviewers: broken.reviewers,
        reviewDueAt: broken.reviewDueAt.toISOString(),
      },
    });
    await commitTransition(unit, { before: approval, after: result.approval, actor: broken.by });
    await insertBreakGlassReview(unit.db, id, broken);
    for (const to of broken.reviewers.filter(isMailable)) {
      await enqueue(unit, 'break-glass-mail', { approvalId: id, to, reminder: false });
      await enqueue(
        unit,
        'break-glass-mail',
        { approvalId: id, to, reminder: true },
        { dueAt: broken.reviewDueAt },
      );
    }
    unit.afterCommit.observe({ type: 'approval.break_glass', policy: policyLabel(approval.policy) });
    return result.approval;
  });
}

/** Confirms or flags a broken glass, as someone it skipped; once. */
export async function reviewBreakGlassAs(
  services: Services,
  principal: Principal,
  id: string,
  review: { verdict: ReviewVerdict; comment?: string | undefined },
): Promise<BreakGlassReview> {
  const actor = personOf(services, principal);
  await loadPermitted(services, principal, 'approvals:read', id);
  return withApproval(services, id, async (unit, approval) => {
    const broken = approval.breakGlass;
    const open = await findBreakGlassReview(unit.db, id);
    if (!broken || !open) throw new SignoffError('not_found', `No break-glass on ${id} to review.`);
    const allowed = mayReview(approval, broken, actor);
    if (!allowed.ok) throw new SignoffError(allowed.code, allowed.message);
    const status = review.verdict === 'confirm' ? 'confirmed' : 'flagged';
    const by = actor.id;
    const closed = await closeBreakGlassReview(unit.db, id, {
      status,
      by,
      at: unit.now,
      comment: review.comment?.trim() || null,
    });
    if (!closed)
      throw new SignoffError('already_decided', `The break-glass on ${id} is already ${open.status}.`);
    await audit(unit, id, {
      type: 'break_glass.reviewed',
      actor: by,
      data: { verdict: review.verdict, comment: review.comment?.trim() || null },
    });
    unit.afterCommit.publishChange(id);
    return { ...open, status, reviewedBy: by, reviewedAt: unit.now, comment: review.comment?.trim() || null };
  });
}

/** Whether the principal may read this approval (a read restricted by metadata reaches only some). */
async function mayRead(services: Services, principal: Principal, id: string): Promise<boolean> {
  const approval = await findApproval(services.db, id);
  return approval !== undefined && permitsApproval(principal, 'approvals:read', approval.metadata);
}

export interface ReviewListing {
  readonly items: readonly (BreakGlassReview & { readonly overdue: boolean })[];
}

/**
 * The after-reviews the principal may see: every one for a reader of all approvals, else those
 * that ask the principal. `overdue` keeps the open ones past their deadline.
 */
export async function listBreakGlassReviewsAs(
  services: Services,
  principal: Principal,
  query: { status?: ReviewStatus | undefined; overdue?: boolean | undefined },
): Promise<ReviewListing> {
  const now = services.now();
  const rows = await listBreakGlassReviews(services.db, {
    status: query.status,
    overdueAt: query.overdue ? now : undefined,
    limit: 500,
  });
  const everything = hasUnrestrictedPermission(principal, 'approvals:read');
  const named = actorOf(principal);
  const actor = named && { ...named, id: normalizeIdentity(named.id, services.config.identity) };
  const mine = (review: BreakGlassReview) =>
    actor !== undefined && review.reviewers.some((entry) => matchesApprover(entry, actor));
  const items: ReviewListing['items'][number][] = [];
  for (const review of rows) {
    if (items.length === 200) break;
    if (!everything && !(mine(review) && (await mayRead(services, principal, review.approvalId)))) continue;
    items.push({ ...review, overdue: review.status === 'open' && review.dueAt < now });
  }
  return { items };
}

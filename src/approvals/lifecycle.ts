import { cancel, expire } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import type { Actor, Approval } from '../core/model.js';
import { isRequester } from '../core/stages.js';
import type { Services } from '../services.js';
import { claimDueApprovalId, findApproval } from '../store/approvals.js';
import { runUnitOfWork } from '../unit-of-work/context.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/**
 * Cancels a pending approval; its callback is told. With `owner`, only an approval of that
 * owner (a hash of its scope) may be cancelled.
 */
export async function cancelApproval(
  services: Services,
  id: string,
  by: string,
  reason?: string | null,
  options: { owner?: string | undefined } = {},
): Promise<Approval> {
  return withApproval(services, id, async (unit, approval) => {
    if (options.owner !== undefined && approval.owner !== options.owner)
      throw new SignoffError(
        'not_owner',
        'Only the credential that created this approval (or an admin) may cancel it.',
      );
    const result = cancel(approval, unit.now, by, reason);
    if (!result.ok) throw new SignoffError(result.code, result.message);
    await commitTransition(unit, { before: approval, after: result.approval, actor: by });
    return result.approval;
  });
}

/** Whether a signed-in person may call an approval off: its requester, or an admin. */
export function mayCancelAsPerson(approval: Approval, person: Actor, admin: boolean): boolean {
  return admin || isRequester(approval, { actor: person.id, issuer: person.issuer, subject: person.subject });
}

/** Cancels a pending approval for a person signed in on the web: its requester, or an admin. */
export async function cancelAsPerson(
  services: Services,
  person: Actor,
  admin: boolean,
  id: string,
  reason?: string | null,
): Promise<Approval> {
  return withApproval(services, id, async (unit, approval) => {
    if (!mayCancelAsPerson(approval, person, admin))
      throw new SignoffError(
        'not_owner',
        'Only whoever asked for this approval (or an admin) may cancel it.',
      );
    const result = cancel(approval, unit.now, person.id, reason);
    if (!result.ok) throw new SignoffError(result.code, result.message);
    await commitTransition(unit, { before: approval, after: result.approval, actor: person.id });
    return result.approval;
  });
}

/**
 * Expires the next due approval, if any, in one transaction; its callback is told.
 * Returns false when nothing is due. Concurrent sweepers never expire one twice.
 */
export async function expireNextDue(services: Services): Promise<boolean> {
  return runUnitOfWork(services, async (unit) => {
    const id = await claimDueApprovalId(unit.db, unit.now);
    const approval = id ? await findApproval(unit.db, id) : undefined;
    if (!approval) return false;
    const result = expire(approval, unit.now);
    if (!result.ok)
      throw new Error(`Approval ${approval.id} was claimed as due but cannot expire: ${result.code}`);
    await commitTransition(unit, { before: approval, after: result.approval, actor: null });
    return true;
  });
}

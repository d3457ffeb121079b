import { cancel, expire } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
import { claimDueApprovalId, findApproval } from '../store/approvals.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/** Cancels a pending approval; its callback is told. */
export async function cancelApproval(
  services: Services,
  id: string,
  by: string,
  reason?: string | null,
): Promise<Approval> {
  return withApproval(services, id, async (tx, approval) => {
    const now = services.now();
    const result = cancel(approval, now, by, reason);
    if (!result.ok) throw new SignoffError(result.code, result.message);
    await commitTransition(tx, services, { before: approval, after: result.approval, actor: by, now });
    return result.approval;
  });
}

/**
 * Expires the next due approval, if any, in one transaction; its callback is told.
 * Returns false when nothing is due. Concurrent sweepers never expire one twice.
 */
export async function expireNextDue(services: Services): Promise<boolean> {
  const expired = await services.db.transaction().execute(async (tx) => {
    const now = services.now();
    const id = await claimDueApprovalId(tx, now);
    const approval = id ? await findApproval(tx, id) : undefined;
    if (!approval) return undefined;
    const result = expire(approval, now);
    if (!result.ok)
      throw new Error(`Approval ${approval.id} was claimed as due but cannot expire: ${result.code}`);
    await commitTransition(tx, services, { before: approval, after: result.approval, actor: null, now });
    return approval.id;
  });
  if (!expired) return false;
  services.changes.publish(expired);
  services.wakeDispatcher();
  return true;
}

import { cancel, expire } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
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

/** Expires one approval if it is still pending and due; false when there was nothing to do. */
export async function expireApproval(services: Services, id: string): Promise<boolean> {
  return withApproval(services, id, async (tx, approval) => {
    const now = services.now();
    const result = expire(approval, now);
    if (!result.ok) return false;
    await commitTransition(tx, services, { before: approval, after: result.approval, actor: null, now });
    return true;
  });
}

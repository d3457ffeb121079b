import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';

/**
 * Resolves with the approval once it is no longer pending (or, when it changes, `stopWhen`
 * says so), or as it is when `timeoutMs` passes or `signal` aborts. Woken by change
 * notifications, never by polling in a loop.
 */
export async function waitForDecision(
  services: Services,
  id: string,
  timeoutMs: number,
  signal?: AbortSignal,
  stopWhen?: (approval: Approval) => Promise<boolean>,
): Promise<Approval> {
  const load = async () => {
    const approval = await findApproval(services.db, id);
    if (!approval) throw new SignoffError('not_found', `No approval ${id}.`);
    return approval;
  };
  let approval = await load();
  if (approval.status !== 'pending' || timeoutMs <= 0) return approval;

  let notify: () => void = () => {};
  let changed = false;
  const unsubscribe = services.changes.subscribe(id, () => {
    changed = true;
    notify();
  });
  const leave = services.waits.enter(id);
  const deadline = Date.now() + timeoutMs;
  try {
    // Read again after subscribing, so a change between the first read and now is not missed.
    approval = await load();
    while (approval.status === 'pending' && !signal?.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          notify = done;
          signal?.addEventListener('abort', done, { once: true });
        });
      }
      if (!changed) break;
      changed = false;
      approval = await load();
      if (approval.status === 'pending' && (await stopWhen?.(approval))) break;
    }
    return approval;
  } finally {
    leave();
    unsubscribe();
  }
}

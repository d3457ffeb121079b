import { expireApproval } from '../approvals/lifecycle.js';
import type { Services } from '../services.js';
import { findDueApprovalIds } from '../store/approvals.js';

const BATCH = 100;

/** Expires pending approvals whose time is up. Each is a conditional update, so it runs once. */
export async function sweepExpired(services: Services): Promise<number> {
  const ids = await findDueApprovalIds(services.db, services.now(), BATCH);
  let expired = 0;
  for (const id of ids) {
    try {
      if (await expireApproval(services, id)) expired++;
    } catch (error) {
      services.logger.error({ err: error, approvalId: id }, 'could not expire approval');
    }
  }
  return expired;
}

/** Runs the sweep every poll interval until stopped. */
export function startSweeper(services: Services): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      await sweepExpired(services);
    } catch (error) {
      services.logger.error({ err: error }, 'expiry sweep failed');
    }
    if (!stopped) timer = setTimeout(tick, services.config.pollIntervalMs);
  };
  timer = setTimeout(tick, 0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

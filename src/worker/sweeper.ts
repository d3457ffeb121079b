import { expireNextDue } from '../approvals/lifecycle.js';
import type { Services } from '../services.js';
import {
  deleteDeliveredOutbox,
  deleteExpiredLinks,
  deleteExpiredWebSessions,
  deleteUsedLinks,
} from '../store/retention.js';

const BATCH = 100;
/** Rows deleted per statement: small enough that a prune never holds the SQLite writer long. */
const PRUNE_BATCH = 1000;

/** Expires up to a batch of due approvals; each in its own transaction, each exactly once. */
export async function sweepExpired(services: Services): Promise<number> {
  let expired = 0;
  while (expired < BATCH && (await expireNextDue(services))) expired++;
  return expired;
}

/**
 * Deletes one batch each of delivered outbox messages and of links used or expired longer
 * than the retention setting ago, so tables and their indexes stop growing with history.
 * Returns whether any batch was full (more is waiting).
 */
export async function pruneRetained(services: Services): Promise<boolean> {
  const before = new Date(services.now().getTime() - services.config.retentionMs);
  const deleted = [
    await deleteDeliveredOutbox(services.db, before, PRUNE_BATCH),
    await deleteUsedLinks(services.db, before, PRUNE_BATCH),
    await deleteExpiredLinks(services.db, before, PRUNE_BATCH),
    await deleteExpiredWebSessions(services.db, before, PRUNE_BATCH),
  ];
  return deleted.some((count) => count === PRUNE_BATCH);
}

/** Runs the sweep and the pruning every poll interval (at once again after a full batch) until stopped. */
export function startSweeper(services: Services): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = async () => {
    let expired = 0;
    let morePruning = false;
    try {
      expired = await sweepExpired(services);
    } catch (error) {
      services.logger.error({ err: error }, 'expiry sweep failed');
    }
    try {
      morePruning = await pruneRetained(services);
    } catch (error) {
      services.logger.error({ err: error }, 'pruning failed');
    }
    const again = expired === BATCH || morePruning;
    if (!stopped) timer = setTimeout(run, again ? 0 : services.config.pollIntervalMs);
  };
  const run = () => {
    running = tick();
  };
  timer = setTimeout(run, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

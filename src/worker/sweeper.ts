import { expireNextDue } from '../approvals/lifecycle.js';
import type { Services } from '../services.js';

const BATCH = 100;

/** Expires up to a batch of due approvals; each in its own transaction, each exactly once. */
export async function sweepExpired(services: Services): Promise<number> {
  let expired = 0;
  while (expired < BATCH && (await expireNextDue(services))) expired++;
  return expired;
}

/** Runs the sweep every poll interval (at once again after a full batch) until stopped. */
export function startSweeper(services: Services): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = async () => {
    let expired = 0;
    try {
      expired = await sweepExpired(services);
    } catch (error) {
      services.logger.error({ err: error }, 'expiry sweep failed');
    }
    if (!stopped) timer = setTimeout(run, expired === BATCH ? 0 : services.config.pollIntervalMs);
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

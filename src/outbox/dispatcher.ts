import type { Services } from '../services.js';
import { claimDueOutbox, countPendingOutside } from '../store/outbox.js';
import type { OutboxRow } from '../store/schema.js';
import { deliverOne } from './delivery.js';
import type { OutboxHandlers } from './handler.js';
import { isOutboxKind, type OutboxKind } from './kinds.js';

/**
 * Deliveries in flight at once. The loop claims more as each one ends, so a target that takes
 * its whole deadline holds one place, not everyone else's turn.
 */
const CONCURRENCY = 32;

export interface Dispatcher {
  start(): void;
  /** Delivers a batch of what is due now; resolves with how many messages were attempted. */
  runOnce(): Promise<number>;
  wake(): void;
  stop(): Promise<void>;
}

/** A sleep that a wake-up ends early. */
function createAlarm() {
  let ring: (() => void) | undefined;
  return {
    sleep(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          ring = undefined;
          resolve();
        }
        ring = done;
      });
    },
    ring() {
      ring?.();
    },
  };
}

/** The deliveries in flight, by message id; `ended` is told each time one gives its place back. */
function createInFlight(deliver: (row: OutboxRow) => Promise<void>, ended: () => void) {
  const delivering = new Map<string, Promise<void>>();
  return {
    get size() {
      return delivering.size;
    },
    ids: () => [...delivering.keys()],
    /** Starts `row`'s delivery in a place of its own, which it gives back when it ends. */
    launch(row: OutboxRow) {
      const delivery: Promise<void> = deliver(row).finally(() => {
        delivering.delete(row.id);
        ended();
      });
      delivering.set(row.id, delivery);
    },
    /** Resolves when every delivery in flight has ended. */
    drain: () => Promise.allSettled([...delivering.values()]),
  };
}

// A delivery is abandoned well before its lease runs out, so no other worker can start the
// same message while this one is still sending it.
const deliveryDeadlineMs = (config: Services['config']) => config.httpTimeoutMs * 2;
const leaseMs = (config: Services['config']) => config.httpTimeoutMs * 3 + 1000;

/**
 * Leases up to `limit` due messages of `kinds`, never one still being delivered here (`busy`:
 * its lease may look run out when the clock jumps).
 */
function claimDue(
  services: Services,
  kinds: readonly OutboxKind[],
  limit: number,
  busy: readonly string[],
): Promise<OutboxRow[]> {
  const now = services.now();
  const leaseUntil = new Date(now.getTime() + leaseMs(services.config));
  return claimDueOutbox(services.db, now, leaseUntil, limit, kinds, busy);
}

/** Tells the log about waiting messages of kinds only a newer release delivers. */
async function warnOfUnknownKinds({ db, logger }: Services, kinds: readonly OutboxKind[]) {
  try {
    for (const { kind, count } of await countPendingOutside(db, kinds))
      logger.warn(
        { kind, count },
        'the outbox holds messages of a kind this release does not deliver; an instance of the release that queued them will',
      );
  } catch (error) {
    logger.error({ err: error }, 'outbox dispatcher could not count messages of unknown kinds');
  }
}

/**
 * Delivers outbox messages at least once: lease due rows, up to CONCURRENCY at a time, and
 * hand each to `deliverOne` (src/outbox/delivery.ts), which settles it.
 *
 * It claims only the kinds it has handlers for: during a rolling deploy an instance of the
 * older release leaves a newer kind's messages to the instances that know it, instead of
 * dead-lettering them.
 */
export function createDispatcher(services: Services, handlers: Partial<OutboxHandlers>): Dispatcher {
  const { config, logger } = services;
  const kinds = Object.keys(handlers).filter(isOutboxKind);
  const deliver = (row: OutboxRow) => deliverOne(services, handlers, deliveryDeadlineMs(config), row);
  const reportUnsettled = (error: unknown) =>
    logger.error({ err: error }, 'outbox delivery could not be settled');
  const alarm = createAlarm();
  let running = false;
  let loop: Promise<void> | undefined;
  let woken = false;
  /** Whether the loop sleeps because every place is taken: an ending delivery then wakes it. */
  let waitingForRoom = false;
  const inFlight = createInFlight(
    (row) => deliver(row).catch(reportUnsettled),
    () => {
      if (waitingForRoom) alarm.ring();
    },
  );

  /** Claims up to `room` due messages and starts each; resolves with how many it started. */
  async function fill(room: number): Promise<number> {
    try {
      const rows = await claimDue(services, kinds, room, inFlight.ids());
      for (const row of rows) inFlight.launch(row);
      return rows.length;
    } catch (error) {
      logger.error({ err: error }, 'outbox dispatcher failed to read due messages');
      return 0;
    }
  }

  async function run(): Promise<void> {
    while (running) {
      woken = false;
      const room = CONCURRENCY - inFlight.size;
      // Without room nothing is awaited: the loop goes to sleep before a delivery can end unheard.
      const claimed = room > 0 ? await fill(room) : 0;
      if (!running || woken) continue;
      // A full claim means more may be due: claim again at once when there is room, or as
      // soon as a delivery ends; otherwise wait for the next poll or a wake-up.
      const more = room > 0 && claimed === room;
      if (more && inFlight.size < CONCURRENCY) continue;
      waitingForRoom = inFlight.size >= CONCURRENCY;
      await alarm.sleep(config.pollIntervalMs);
      waitingForRoom = false;
    }
    await inFlight.drain();
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = warnOfUnknownKinds(services, kinds).then(run);
    },
    async runOnce() {
      const claimed = await claimDue(services, kinds, CONCURRENCY, inFlight.ids());
      // Every claimed delivery is waited for, even when one fails, so stop() never leaves one running.
      const settled = await Promise.allSettled(claimed.map(deliver));
      for (const result of settled) if (result.status === 'rejected') reportUnsettled(result.reason);
      return claimed.length;
    },
    wake() {
      woken = true;
      alarm.ring();
    },
    async stop() {
      running = false;
      alarm.ring();
      await loop;
    },
  };
}

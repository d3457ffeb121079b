import type { AuditEntry } from '../core/audit.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import type { Db } from '../store/database.js';
import {
  claimDueOutbox,
  countPendingOutside,
  extendOutboxLease,
  markOutboxDead,
  markOutboxDelivered,
  type OutboxLease,
  scheduleOutboxRetry,
} from '../store/outbox.js';
import type { OutboxRow } from '../store/schema.js';
import { audit } from '../unit-of-work/audit.js';
import { runUnitOfWork } from '../unit-of-work/context.js';
import { type Failure, failureEntry, judgeFailure } from './failure.js';
import type { AnyOutboxMessage, DeliveryReport, OutboxHandler, OutboxHandlers } from './handler.js';
import { isOutboxKind, type OutboxKind } from './kinds.js';

/**
 * Deliveries in flight at once. The loop claims more as each one ends, so a target that takes
 * its whole deadline holds one place, not everyone else's turn.
 */
const CONCURRENCY = 32;

/** Rejects with `upstream_timeout` when `work` takes longer than `ms`. */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SignoffError('upstream_timeout', `Delivery took longer than ${ms} ms.`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A stored row as a typed message; undefined for a kind this signoff does not know. */
function decodeMessage(row: OutboxRow): AnyOutboxMessage | undefined {
  if (!isOutboxKind(row.kind)) return undefined;
  return {
    id: row.id,
    kind: row.kind,
    approvalId: row.approval_id,
    // The payload was written by `enqueue` for this very kind.
    payload: JSON.parse(row.payload),
    attempts: Number(row.attempts),
    createdAt: new Date(Number(row.created_at)),
  };
}

/** The handler of a kind: the registry's type pairs every kind with a handler of its payload. */
function handlerFor<K extends OutboxKind>(
  handlers: Partial<OutboxHandlers>,
  kind: K,
): OutboxHandler<K> | undefined {
  return handlers[kind];
}

export interface Dispatcher {
  start(): void;
  /** Delivers a batch of what is due now; resolves with how many messages were attempted. */
  runOnce(): Promise<number>;
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Delivers outbox messages at least once: lease a due row, hand it to its kind's
 * handler, then mark it delivered, schedule a retry with backoff, or dead-letter it.
 * It knows no feature: what a kind means and how it is audited come from its handler.
 *
 * It claims only the kinds it has handlers for: during a rolling deploy an instance of the
 * older release leaves a newer kind's messages to the instances that know it, instead of
 * dead-lettering them.
 */
export function createDispatcher(services: Services, handlers: Partial<OutboxHandlers>): Dispatcher {
  const { config, logger } = services;
  const kinds = Object.keys(handlers).filter(isOutboxKind);
  // A delivery is abandoned well before its lease runs out, so no other worker can start
  // the same message while this one is still sending it.
  const deliveryDeadlineMs = config.httpTimeoutMs * 2;
  const leaseMs = config.httpTimeoutMs * 3 + 1000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  /**
   * Settles a message and writes its audit event together, if this dispatcher still holds the
   * lease; `visible` wakes the approval's waiters, for a change its view shows.
   */
  async function settle(
    row: OutboxRow,
    write: (db: Db, lease: OutboxLease) => Promise<boolean>,
    entry: AuditEntry | null,
    visible = false,
  ): Promise<boolean> {
    const lease = { id: row.id, leaseUntil: Number(row.next_attempt_at) };
    const settled = await runUnitOfWork(services, async (unit) => {
      if (!(await write(unit.db, lease))) return false;
      if (row.approval_id && entry) await audit(unit, row.approval_id, entry);
      if (row.approval_id && visible) unit.afterCommit.publishChange(row.approval_id);
      return true;
    });
    if (!settled)
      logger.warn(
        { messageId: row.id },
        'outbox lease ran out before delivery finished; another worker owns it',
      );
    return settled;
  }

  /** Retries a failed message later, or dead-letters it, with the audit event that says so. */
  async function fail(
    row: OutboxRow,
    handler: OutboxHandler<OutboxKind>,
    error: unknown,
    message: AnyOutboxMessage,
  ) {
    const now = services.now();
    const failure = judgeFailure(row, handler, message, error, now, config);
    const { attempts, delay, dead, reason } = failure;
    const settled = await settle(
      row,
      (db, lease) =>
        dead
          ? markOutboxDead(db, lease, attempts, reason)
          : scheduleOutboxRetry(db, lease, attempts, new Date(now.getTime() + delay), reason),
      failureEntry(row, handler, failure),
      // A dead letter to a person shows in the approval's view: its waiters hear of it now.
      dead && failure.recipient !== undefined,
    );
    if (settled) reportFailure(row, failure);
  }

  /** Counts a settled failure and logs it, with the recipient it never reached. */
  function reportFailure(row: OutboxRow, { attempts, delay, dead, reason, recipient }: Failure) {
    services.observer.observe({ type: 'delivery', kind: row.kind, result: dead ? 'dead' : 'retry' });
    const log = { messageId: row.id, kind: row.kind, attempts, error: reason, ...recipient };
    if (dead) logger.error(log, 'outbox message dead-lettered: it will not be retried');
    else logger.warn({ ...log, retryInMs: delay }, 'outbox delivery failed; will retry');
  }

  async function deliverOne(claimed: OutboxRow): Promise<void> {
    let row = claimed;
    const message = decodeMessage(row);
    const handler: OutboxHandler<OutboxKind> | undefined = message && handlerFor(handlers, message.kind);
    // Never claimed: only kinds with a handler are.
    if (!message || !handler) throw new Error(`claimed outbox kind "${row.kind}" has no handler`);
    const deadlineMs = handler.deadlineMs ?? deliveryDeadlineMs;
    // Slow work (an AI review) lengthens its own lease before it starts, so a crash still
    // frees ordinary messages after the short lease.
    if (deadlineMs > deliveryDeadlineMs) {
      const until = new Date(services.now().getTime() + deadlineMs + config.httpTimeoutMs + 1000);
      const lease = { id: row.id, leaseUntil: Number(row.next_attempt_at) };
      if (!(await extendOutboxLease(services.db, lease, until))) return;
      row = { ...row, next_attempt_at: until.getTime() };
    }
    let report: DeliveryReport;
    try {
      report = await withDeadline(handler.deliver(message), deadlineMs);
    } catch (error) {
      await fail(row, handler, error, message);
      return;
    }
    const attempts = Number(row.attempts) + 1;
    const entry =
      report.skipped || report.silent
        ? null
        : { type: handler.events.delivered, actor: null, data: { messageId: row.id, attempts, ...report } };
    const delivered = await settle(
      row,
      (db, lease) => markOutboxDelivered(db, lease, attempts, services.now()),
      entry,
    );
    if (delivered) services.observer.observe({ type: 'delivery', kind: row.kind, result: 'delivered' });
    logger.debug(
      { messageId: row.id, kind: row.kind, attempts, skipped: report.skipped },
      'outbox message delivered',
    );
  }

  /** The messages this dispatcher is delivering now, by id. */
  const delivering = new Map<string, Promise<void>>();

  /**
   * Leases up to `limit` due messages of the kinds this dispatcher delivers, never one it is
   * still delivering (its lease may look run out when the clock jumps).
   */
  function claim(limit: number): Promise<OutboxRow[]> {
    const now = services.now();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    return claimDueOutbox(services.db, now, leaseUntil, limit, kinds, [...delivering.keys()]);
  }

  function reportUnsettled(error: unknown) {
    logger.error({ err: error }, 'outbox delivery could not be settled');
  }

  async function runOnce(): Promise<number> {
    const claimed = await claim(CONCURRENCY);
    // Every claimed delivery is waited for, even when one fails, so stop() never leaves one running.
    const settled = await Promise.allSettled(claimed.map(deliverOne));
    for (const result of settled) if (result.status === 'rejected') reportUnsettled(result.reason);
    return claimed.length;
  }

  /** Whether the loop sleeps because every place is taken: an ending delivery then wakes it. */
  let waitingForRoom = false;

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });
  }

  /** Starts `row`'s delivery in a place of its own, which it gives back when it ends. */
  function launch(row: OutboxRow) {
    const delivery: Promise<void> = deliverOne(row)
      .catch(reportUnsettled)
      .finally(() => {
        delivering.delete(row.id);
        if (waitingForRoom) wakeUp?.();
      });
    delivering.set(row.id, delivery);
  }

  /** Claims up to `room` due messages and starts each; resolves with how many it started. */
  async function fill(room: number): Promise<number> {
    try {
      const rows = await claim(room);
      for (const row of rows) launch(row);
      return rows.length;
    } catch (error) {
      logger.error({ err: error }, 'outbox dispatcher failed to read due messages');
      return 0;
    }
  }

  async function run(): Promise<void> {
    while (running) {
      woken = false;
      const room = CONCURRENCY - delivering.size;
      // Without room nothing is awaited: the loop goes to sleep before a delivery can end unheard.
      const claimed = room > 0 ? await fill(room) : 0;
      if (!running || woken) continue;
      // A full claim means more may be due: claim again at once when there is room, or as
      // soon as a delivery ends; otherwise wait for the next poll or a wake-up.
      const more = room > 0 && claimed === room;
      if (more && delivering.size < CONCURRENCY) continue;
      waitingForRoom = delivering.size >= CONCURRENCY;
      await sleep(config.pollIntervalMs);
      waitingForRoom = false;
    }
    await Promise.allSettled([...delivering.values()]);
  }

  /** Tells the log about waiting messages of kinds only a newer release delivers. */
  async function warnOfUnknownKinds() {
    try {
      for (const { kind, count } of await countPendingOutside(services.db, kinds))
        logger.warn(
          { kind, count },
          'the outbox holds messages of a kind this release does not deliver; an instance of the release that queued them will',
        );
    } catch (error) {
      logger.error({ err: error }, 'outbox dispatcher could not count messages of unknown kinds');
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = warnOfUnknownKinds().then(run);
    },
    runOnce,
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },
  };
}

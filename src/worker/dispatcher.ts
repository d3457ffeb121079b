import { type AuditType, audit } from '../approvals/audit.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import {
  findDueOutbox,
  leaseOutbox,
  markOutboxDead,
  markOutboxDelivered,
  type OutboxKind,
  scheduleOutboxRetry,
} from '../store/outbox.js';
import type { OutboxRow } from '../store/schema.js';
import { type OutboxHandler, PermanentDeliveryError } from './delivery.js';

const BATCH = 16;

const AUDIT_TYPES: Record<OutboxKind, { ok: AuditType; failed: AuditType; dead: AuditType }> = {
  email: { ok: 'notification.sent', failed: 'notification.failed', dead: 'notification.dead_lettered' },
  webhook: { ok: 'callback.delivered', failed: 'callback.failed', dead: 'callback.dead_lettered' },
};

/** Exponential backoff with "equal jitter": half the delay is fixed, half random. */
export function retryDelay(attempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

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

export interface Dispatcher {
  start(): void;
  /** Delivers what is due now; resolves with how many messages were attempted. */
  runOnce(): Promise<number>;
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Delivers outbox messages at least once: lease a due row, hand it to its kind's
 * handler, then mark it delivered, schedule a retry with backoff, or dead-letter it.
 */
export function createDispatcher(
  services: Services,
  handlers: Record<OutboxKind, OutboxHandler>,
): Dispatcher {
  const { config, logger } = services;
  // A delivery is abandoned well before its lease runs out, so no other worker can start
  // the same message while this one is still sending it.
  const deliveryDeadlineMs = config.httpTimeoutMs * 2;
  const leaseMs = config.httpTimeoutMs * 3 + 1000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  async function deliverOne(row: OutboxRow): Promise<void> {
    const kind = row.kind as OutboxKind;
    const handler = handlers[kind];
    const attempts = Number(row.attempts) + 1;
    const types = AUDIT_TYPES[kind];
    try {
      if (!handler) throw new PermanentDeliveryError(`No handler for outbox kind "${row.kind}".`);
      const report = await withDeadline(handler.deliver(row, JSON.parse(row.payload)), deliveryDeadlineMs);
      const now = services.now();
      await services.db.transaction().execute(async (tx) => {
        await markOutboxDelivered(tx, row.id, attempts, now);
        if (row.approval_id && !report.skipped)
          await audit(
            tx,
            services,
            row.approval_id,
            types.ok,
            null,
            { messageId: row.id, attempts, ...report },
            now,
          );
      });
      logger.debug(
        { messageId: row.id, kind, attempts, skipped: report.skipped },
        'outbox message delivered',
      );
    } catch (error) {
      const now = services.now();
      const message = error instanceof Error ? error.message : String(error);
      const delay = retryDelay(attempts, config.retryBaseMs, config.retryMaxMs);
      const age = now.getTime() - Number(row.created_at);
      const dead = error instanceof PermanentDeliveryError || age + delay > config.deadLetterAfterMs;
      await services.db.transaction().execute(async (tx) => {
        if (dead) await markOutboxDead(tx, row.id, attempts, message);
        else await scheduleOutboxRetry(tx, row.id, attempts, new Date(now.getTime() + delay), message);
        if (row.approval_id)
          await audit(
            tx,
            services,
            row.approval_id,
            dead ? types.dead : types.failed,
            null,
            { messageId: row.id, attempts, error: message, retryInMs: dead ? null : delay },
            now,
          );
      });
      const log = { messageId: row.id, kind, attempts, error: message };
      if (dead) logger.error(log, 'outbox message dead-lettered: it will not be retried');
      else logger.warn({ ...log, retryInMs: delay }, 'outbox delivery failed; will retry');
    }
  }

  async function runOnce(): Promise<number> {
    const now = services.now();
    const due = await findDueOutbox(services.db, now, BATCH);
    const leased: OutboxRow[] = [];
    for (const row of due) {
      if (await leaseOutbox(services.db, row, new Date(now.getTime() + leaseMs))) leased.push(row);
    }
    await Promise.all(leased.map(deliverOne));
    return due.length;
  }

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

  async function run(): Promise<void> {
    while (running) {
      woken = false;
      let attempted = 0;
      try {
        attempted = await runOnce();
      } catch (error) {
        logger.error({ err: error }, 'outbox dispatcher failed to read due messages');
      }
      if (running && attempted < BATCH && !woken) await sleep(config.pollIntervalMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
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

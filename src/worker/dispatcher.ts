import { type AuditType, audit } from '../approvals/audit.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import type { Db } from '../store/database.js';
import {
  claimDueOutbox,
  extendOutboxLease,
  markOutboxDead,
  markOutboxDelivered,
  type OutboxKind,
  type OutboxLease,
  scheduleOutboxRetry,
} from '../store/outbox.js';
import type { OutboxRow } from '../store/schema.js';
import { type DeliveryReport, type OutboxHandler, PermanentDeliveryError } from './delivery.js';

const BATCH = 16;

const AUDIT_TYPES: Record<OutboxKind, { ok: AuditType; failed: AuditType; dead: AuditType }> = {
  email: { ok: 'notification.sent', failed: 'notification.failed', dead: 'notification.dead_lettered' },
  webhook: { ok: 'callback.delivered', failed: 'callback.failed', dead: 'callback.dead_lettered' },
  resume: { ok: 'callback.delivered', failed: 'callback.failed', dead: 'callback.dead_lettered' },
  heartbeat: { ok: 'callback.delivered', failed: 'callback.failed', dead: 'callback.dead_lettered' },
  // Reviews and timers write their own audit events with the state change they cause.
  review: { ok: 'stage.result', failed: 'notification.failed', dead: 'notification.dead_lettered' },
  timer: { ok: 'approval.reminded', failed: 'notification.failed', dead: 'notification.dead_lettered' },
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

  /** Settles a message and writes its audit event together, if this dispatcher still holds the lease. */
  async function settle(
    row: OutboxRow,
    write: (tx: Db, lease: OutboxLease) => Promise<boolean>,
    event: { type: AuditType; data: Record<string, unknown> } | null,
  ): Promise<boolean> {
    const lease = { id: row.id, leaseUntil: Number(row.next_attempt_at) };
    const now = services.now();
    const settled = await services.db.transaction().execute(async (tx) => {
      if (!(await write(tx, lease))) return false;
      if (row.approval_id && event)
        await audit(tx, services, row.approval_id, event.type, null, event.data, now);
      return true;
    });
    if (!settled)
      logger.warn(
        { messageId: row.id },
        'outbox lease ran out before delivery finished; another worker owns it',
      );
    return settled;
  }

  async function deliverOne(claimed: OutboxRow): Promise<void> {
    let row = claimed;
    const kind = row.kind as OutboxKind;
    const handler = handlers[kind];
    const deadlineMs = handler?.deadlineMs ?? deliveryDeadlineMs;
    // Slow work (an AI review) lengthens its own lease before it starts, so a crash still
    // frees ordinary messages after the short lease.
    if (deadlineMs > deliveryDeadlineMs) {
      const until = new Date(services.now().getTime() + deadlineMs + config.httpTimeoutMs + 1000);
      const lease = { id: row.id, leaseUntil: Number(row.next_attempt_at) };
      if (!(await extendOutboxLease(services.db, lease, until))) return;
      row = { ...row, next_attempt_at: until.getTime() };
    }
    const attempts = Number(row.attempts) + 1;
    const types = AUDIT_TYPES[kind];
    let report: DeliveryReport;
    try {
      if (!handler) throw new PermanentDeliveryError(`No handler for outbox kind "${row.kind}".`);
      report = await withDeadline(handler.deliver(row, JSON.parse(row.payload)), deadlineMs);
    } catch (error) {
      const now = services.now();
      const message = error instanceof Error ? error.message : String(error);
      const delay = retryDelay(attempts, config.retryBaseMs, config.retryMaxMs);
      const age = now.getTime() - Number(row.created_at);
      const dead = error instanceof PermanentDeliveryError || age + delay > config.deadLetterAfterMs;
      const detail = handler?.errorsInAudit === false ? {} : { error: message };
      const data = { messageId: row.id, attempts, ...detail, retryInMs: dead ? null : delay };
      const settled = await settle(
        row,
        (tx, lease) =>
          dead
            ? markOutboxDead(tx, lease, attempts, message)
            : scheduleOutboxRetry(tx, lease, attempts, new Date(now.getTime() + delay), message),
        { type: dead ? types.dead : types.failed, data },
      );
      const log = { messageId: row.id, kind, attempts, error: message };
      if (settled && dead) logger.error(log, 'outbox message dead-lettered: it will not be retried');
      else if (settled) logger.warn({ ...log, retryInMs: delay }, 'outbox delivery failed; will retry');
      return;
    }
    const event =
      report.skipped || report.silent
        ? null
        : { type: types.ok, data: { messageId: row.id, attempts, ...report } };
    await settle(row, (tx, lease) => markOutboxDelivered(tx, lease, attempts, services.now()), event);
    logger.debug({ messageId: row.id, kind, attempts, skipped: report.skipped }, 'outbox message delivered');
  }

  async function runOnce(): Promise<number> {
    const now = services.now();
    const claimed = await claimDueOutbox(services.db, now, new Date(now.getTime() + leaseMs), BATCH);
    // Every claimed delivery is waited for, even when one fails, so stop() never leaves one running.
    const settled = await Promise.allSettled(claimed.map(deliverOne));
    for (const result of settled)
      if (result.status === 'rejected')
        logger.error({ err: result.reason }, 'outbox delivery could not be settled');
    return claimed.length;
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

import type { AuditEntry } from '../core/audit.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import type { Db } from '../store/database.js';
import {
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

/**
 * Settles a message and writes its audit event together, if this worker still holds the lease;
 * `visible` wakes the approval's waiters, for a change its view shows.
 */
async function settle(
  services: Services,
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
    services.logger.warn(
      { messageId: row.id },
      'outbox lease ran out before delivery finished; another worker owns it',
    );
  return settled;
}

/** Retries a failed message later, or dead-letters it, with the audit event that says so. */
async function fail(
  services: Services,
  row: OutboxRow,
  handler: OutboxHandler<OutboxKind>,
  error: unknown,
  message: AnyOutboxMessage,
) {
  const now = services.now();
  const failure = judgeFailure(row, handler, message, error, now, services.config);
  const { attempts, delay, dead, reason } = failure;
  const settled = await settle(
    services,
    row,
    (db, lease) =>
      dead
        ? markOutboxDead(db, lease, attempts, reason)
        : scheduleOutboxRetry(db, lease, attempts, new Date(now.getTime() + delay), reason),
    failureEntry(row, handler, failure),
    // A dead letter to a person shows in the approval's view: its waiters hear of it now.
    dead && failure.recipient !== undefined,
  );
  if (settled) reportFailure(services, row, failure);
}

/** Counts a settled failure and logs it, with the recipient it never reached. */
function reportFailure(
  { observer, logger }: Services,
  row: OutboxRow,
  { attempts, delay, dead, reason, recipient }: Failure,
) {
  observer.observe({ type: 'delivery', kind: row.kind, result: dead ? 'dead' : 'retry' });
  const log = { messageId: row.id, kind: row.kind, attempts, error: reason, ...recipient };
  if (dead) logger.error(log, 'outbox message dead-lettered: it will not be retried');
  else logger.warn({ ...log, retryInMs: delay }, 'outbox delivery failed; will retry');
}

/** Marks a delivered message, with its audit event unless the report asks for none. */
async function succeed(
  services: Services,
  row: OutboxRow,
  handler: OutboxHandler<OutboxKind>,
  report: DeliveryReport,
) {
  const attempts = Number(row.attempts) + 1;
  const entry =
    report.skipped || report.silent
      ? null
      : { type: handler.events.delivered, actor: null, data: { messageId: row.id, attempts, ...report } };
  const delivered = await settle(
    services,
    row,
    (db, lease) => markOutboxDelivered(db, lease, attempts, services.now()),
    entry,
  );
  if (delivered) services.observer.observe({ type: 'delivery', kind: row.kind, result: 'delivered' });
  services.logger.debug(
    { messageId: row.id, kind: row.kind, attempts, skipped: report.skipped },
    'outbox message delivered',
  );
}

/**
 * Delivers one claimed message: hands it to its kind's handler within a deadline, then marks it
 * delivered, schedules a retry with backoff, or dead-letters it, each with its audit event in
 * the same transaction. It knows no feature: what a kind means and how it is audited come from
 * its handler. `deliveryDeadlineMs` is an ordinary delivery's; a handler may ask for longer.
 */
export async function deliverOne(
  services: Services,
  handlers: Partial<OutboxHandlers>,
  deliveryDeadlineMs: number,
  claimed: OutboxRow,
): Promise<void> {
  let row = claimed;
  const message = decodeMessage(row);
  const handler: OutboxHandler<OutboxKind> | undefined = message && handlerFor(handlers, message.kind);
  // Never claimed: only kinds with a handler are.
  if (!message || !handler) throw new Error(`claimed outbox kind "${row.kind}" has no handler`);
  const deadlineMs = handler.deadlineMs ?? deliveryDeadlineMs;
  // Slow work (an AI review) lengthens its own lease before it starts, so a crash still
  // frees ordinary messages after the short lease.
  if (deadlineMs > deliveryDeadlineMs) {
    const until = new Date(services.now().getTime() + deadlineMs + services.config.httpTimeoutMs + 1000);
    const lease = { id: row.id, leaseUntil: Number(row.next_attempt_at) };
    if (!(await extendOutboxLease(services.db, lease, until))) return;
    row = { ...row, next_attempt_at: until.getTime() };
  }
  let report: DeliveryReport;
  try {
    report = await withDeadline(handler.deliver(message), deadlineMs);
  } catch (error) {
    await fail(services, row, handler, error, message);
    return;
  }
  await succeed(services, row, handler, report);
}

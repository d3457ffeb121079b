import type { Db } from './database.js';
import type { OutboxRow } from './schema.js';

export type OutboxKind = 'email' | 'webhook';
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export interface NewOutboxMessage {
  readonly id: string;
  readonly approvalId: string | null;
  readonly kind: OutboxKind;
  readonly payload: Record<string, unknown>;
  readonly createdAt: Date;
}

/** Queues one message; it is written in the caller's transaction, next to the state change. */
export async function insertOutbox(db: Db, message: NewOutboxMessage): Promise<void> {
  await db
    .insertInto('outbox')
    .values({
      id: message.id,
      approval_id: message.approvalId,
      kind: message.kind,
      payload: JSON.stringify(message.payload),
      status: 'pending',
      attempts: 0,
      next_attempt_at: message.createdAt.getTime(),
      last_error: null,
      created_at: message.createdAt.getTime(),
      delivered_at: null,
    })
    .execute();
}

/** Pending messages whose next attempt is due, oldest first. */
export async function findDueOutbox(db: Db, now: Date, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now.getTime())
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Leases one message by pushing its next attempt past the lease, but only if nobody
 * leased it since it was read. A crashed dispatcher's lease simply runs out.
 */
export async function leaseOutbox(db: Db, row: OutboxRow, until: Date): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ next_attempt_at: until.getTime() })
    .where('id', '=', row.id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', row.next_attempt_at)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Records a successful delivery. */
export async function markOutboxDelivered(db: Db, id: string, attempts: number, now: Date): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'delivered', attempts, delivered_at: now.getTime(), last_error: null })
    .where('id', '=', id)
    .execute();
}

/** Records a failed attempt and when to try again. */
export async function scheduleOutboxRetry(
  db: Db,
  id: string,
  attempts: number,
  nextAttemptAt: Date,
  error: string,
): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ attempts, next_attempt_at: nextAttemptAt.getTime(), last_error: error })
    .where('id', '=', id)
    .execute();
}

/** Gives up on a message; it stays visible as dead-lettered. */
export async function markOutboxDead(db: Db, id: string, attempts: number, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ status: 'dead', attempts, last_error: error })
    .where('id', '=', id)
    .execute();
}

/** Messages in one status, newest first (dead letters for operators). */
export async function listOutbox(db: Db, status: OutboxStatus, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('status', '=', status)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

import { type Db, isPostgres } from './database.js';
import { hotStatement } from './hot-statement.js';
import type { OutboxRow } from './schema.js';

export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export interface NewOutboxMessage {
  readonly id: string;
  readonly approvalId: string | null;
  readonly kind: string;
  /** The payload, already serialized. */
  readonly payload: string;
  readonly createdAt: Date;
  readonly dueAt: Date;
}

/** Queues one message; it is written in the caller's transaction, next to the state change. */
export async function insertOutbox(db: Db, message: NewOutboxMessage): Promise<void> {
  await insertOutboxRow(db, [
    message.id,
    message.approvalId,
    message.kind,
    message.payload,
    message.dueAt.getTime(),
    message.createdAt.getTime(),
  ]);
}

// A message is queued once by id: a repeated insert (a retried step) changes nothing.
const insertOutboxRow = hotStatement(
  `insert into outbox (id, approval_id, kind, payload, status, attempts, next_attempt_at, last_error, created_at, delivered_at)
   values (?, ?, ?, ?, 'pending', 0, ?, null, ?, null) on conflict (id) do nothing`,
);

/**
 * Leases up to `limit` due messages (oldest first) by pushing their next attempt to
 * `leaseUntil`, in one statement; a crashed dispatcher's lease simply runs out and another
 * takes the row. PostgreSQL instances skip rows another instance is claiming; SQLite has
 * one writer anyway.
 */
export async function claimDueOutbox(
  db: Db,
  now: Date,
  leaseUntil: Date,
  limit: number,
  kinds: readonly string[],
  excluding: readonly string[] = [],
): Promise<OutboxRow[]> {
  if (kinds.length === 0 || limit <= 0) return [];
  return db
    .updateTable('outbox')
    .set({ next_attempt_at: leaseUntil.getTime() })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now.getTime())
        .where('kind', 'in', kinds)
        .$if(excluding.length > 0, (query) => query.where('id', 'not in', excluding))
        .orderBy('next_attempt_at')
        .limit(limit)
        .$if(isPostgres(db), (query) => query.forUpdate().skipLocked()),
    )
    .returningAll()
    .execute();
}

/** How many messages wait of each kind not in `kinds` (the kinds a release delivers). */
export async function countPendingOutside(
  db: Db,
  kinds: readonly string[],
): Promise<{ kind: string; count: number }[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['kind', (eb) => eb.fn.countAll<number | string>().as('count')])
    .where('status', '=', 'pending')
    .$if(kinds.length > 0, (query) => query.where('kind', 'not in', kinds))
    .groupBy('kind')
    .execute();
  return rows.map((row) => ({ kind: row.kind, count: Number(row.count) }));
}

/** The lease a dispatcher holds on one message: its id and the lease's end. */
export interface OutboxLease {
  readonly id: string;
  readonly leaseUntil: number;
}

/**
 * Changes a message only while the caller still holds its lease (the row is pending and
 * its next attempt is still the lease's end); false means the lease was lost.
 */
async function updateLeased(
  db: Db,
  lease: OutboxLease,
  changes: {
    status?: 'delivered' | 'dead';
    attempts?: number;
    next_attempt_at?: number;
    last_error?: string | null;
    delivered_at?: number;
  },
): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set(changes)
    .where('id', '=', lease.id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', lease.leaseUntil)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Lengthens a lease this worker still holds (for slow work such as an AI review); false if lost. */
export async function extendOutboxLease(db: Db, lease: OutboxLease, until: Date): Promise<boolean> {
  return updateLeased(db, lease, { next_attempt_at: until.getTime() });
}

/** Records a successful delivery. */
export async function markOutboxDelivered(
  db: Db,
  lease: OutboxLease,
  attempts: number,
  now: Date,
): Promise<boolean> {
  return updateLeased(db, lease, {
    status: 'delivered',
    attempts,
    delivered_at: now.getTime(),
    last_error: null,
  });
}

/** Records a failed attempt and when to try again. */
export async function scheduleOutboxRetry(
  db: Db,
  lease: OutboxLease,
  attempts: number,
  nextAttemptAt: Date,
  error: string,
): Promise<boolean> {
  return updateLeased(db, lease, { attempts, next_attempt_at: nextAttemptAt.getTime(), last_error: error });
}

/** Gives up on a message; it stays visible as dead-lettered. */
export async function markOutboxDead(
  db: Db,
  lease: OutboxLease,
  attempts: number,
  error: string,
): Promise<boolean> {
  return updateLeased(db, lease, { status: 'dead', attempts, last_error: error });
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

import type { Db } from './database.js';

/** How many approvals wait (over the status index). */
export async function countPendingApprovals(db: Db): Promise<number> {
  const row = await db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** When the oldest waiting approval was asked for (ms), or null. Ids are time-ordered: (status, id) finds it. */
export async function findOldestPendingCreatedAt(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom('approvals')
    .select('created_at')
    .where('status', '=', 'pending')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.created_at) : null;
}

/** Outbox messages waiting and dead-lettered (over the (status, next attempt) index). */
export async function countOutboxBacklog(db: Db): Promise<{ pending: number; dead: number }> {
  const rows = await db
    .selectFrom('outbox')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('status', 'in', ['pending', 'dead'])
    .groupBy('status')
    .execute();
  const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return { pending: count('pending'), dead: count('dead') };
}

/** The earliest moment (ms) a message that is due now became due, or null when none is. */
export async function findOldestDueOutboxAt(db: Db, now: Date): Promise<number | null> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.min<number | string | null>('next_attempt_at').as('at'))
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now.getTime())
    .executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}

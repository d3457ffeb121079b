import type { Delegation } from '../core/delegation.js';
import type { Db } from './database.js';
import type { DelegationsTable } from './schema.js';

function toDelegation(row: DelegationsTable): Delegation & { reason: string | null; createdAt: Date } {
  return {
    id: row.id,
    delegator: row.delegator,
    delegate: row.delegate,
    startsAt: new Date(Number(row.starts_at)),
    endsAt: new Date(Number(row.ends_at)),
    endedAt: row.ended_at === null ? null : new Date(Number(row.ended_at)),
    reason: row.reason,
    createdAt: new Date(Number(row.created_at)),
  };
}

export type StoredDelegation = ReturnType<typeof toDelegation>;

export async function insertDelegation(db: Db, delegation: StoredDelegation): Promise<void> {
  await db
    .insertInto('delegations')
    .values({
      id: delegation.id,
      delegator: delegation.delegator,
      delegate: delegation.delegate,
      starts_at: delegation.startsAt.getTime(),
      ends_at: delegation.endsAt.getTime(),
      reason: delegation.reason,
      created_at: delegation.createdAt.getTime(),
      ended_at: null,
    })
    .execute();
}

/** Delegations that hold at `now` to `delegate` (whose seats they may fill), or from `delegator`. */
export async function findActiveDelegations(
  db: Db,
  who: { delegate: string } | { delegator: string },
  now: Date,
): Promise<StoredDelegation[]> {
  const at = now.getTime();
  const rows = await db
    .selectFrom('delegations')
    .selectAll()
    .$if('delegate' in who, (q) => q.where('delegate', '=', (who as { delegate: string }).delegate))
    .$if('delegator' in who, (q) => q.where('delegator', '=', (who as { delegator: string }).delegator))
    .where('ends_at', '>', at)
    .where('starts_at', '<=', at)
    .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', at)]))
    .execute();
  return rows.map(toDelegation);
}

/** Every delegation a person made or was given, newest first (at most 200). */
export async function listDelegationsOf(db: Db, person: string | null): Promise<StoredDelegation[]> {
  const rows = await db
    .selectFrom('delegations')
    .selectAll()
    .$if(person !== null, (q) =>
      q.where((eb) => eb.or([eb('delegator', '=', person as string), eb('delegate', '=', person as string)])),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
  return rows.map(toDelegation);
}

export async function findDelegation(db: Db, id: string): Promise<StoredDelegation | undefined> {
  const row = await db.selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toDelegation(row);
}

/** Ends a delegation now; false when it had ended already. */
export async function endDelegation(db: Db, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('delegations')
    .set({ ended_at: now.getTime() })
    .where('id', '=', id)
    .where('ended_at', 'is', null)
    .where('ends_at', '>', now.getTime())
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

import type { Delegation } from '../core/delegation.js';
import type { Db } from './database.js';
import { hotStatement } from './hot-statement.js';
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

const DELEGATION_COLUMNS = 'id, delegator, delegate, starts_at, ends_at, reason, created_at, ended_at';
const HOLDING_AT = 'ends_at > ? and starts_at <= ? and (ended_at is null or ended_at > ?)';
// Every decision asks whose seats its decider may fill: a statement written once, by index.
const selectHolding = {
  delegate: hotStatement<DelegationsTable>(
    `select ${DELEGATION_COLUMNS} from delegations where delegate = ? and ${HOLDING_AT}`,
  ),
  delegator: hotStatement<DelegationsTable>(
    `select ${DELEGATION_COLUMNS} from delegations where delegator = ? and ${HOLDING_AT}`,
  ),
} as const;

/** Delegations that hold at `now` to `delegate` (whose seats they may fill), or from `delegator`. */
export async function findActiveDelegations(
  db: Db,
  who: { delegate: string } | { delegator: string },
  now: Date,
): Promise<StoredDelegation[]> {
  const at = now.getTime();
  const [side, person] =
    'delegate' in who ? (['delegate', who.delegate] as const) : (['delegator', who.delegator] as const);
  const { rows } = await selectHolding[side](db, [person, at, at, at]);
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

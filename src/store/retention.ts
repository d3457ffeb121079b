import type { Db } from './database.js';

/**
 * Rows retention lets go, in one table: those whose `at` lies before a time, found through
 * `key` (a DELETE takes no LIMIT everywhere). `only` is a further condition, written first so
 * the statement matches its index.
 */
type Retained =
  | { table: 'outbox'; key: 'id'; at: 'delivered_at'; only: ['status', '=', 'delivered'] }
  | { table: 'links'; key: 'token_hash'; at: 'used_at'; only: ['used_at', 'is not', null] }
  | { table: 'links' | 'sign_in_links'; key: 'token_hash'; at: 'expires_at'; only?: undefined }
  | { table: 'web_sessions'; key: 'id_hash'; at: 'expires_at'; only?: undefined };

const DELIVERED_OUTBOX: Retained = {
  table: 'outbox',
  key: 'id',
  at: 'delivered_at',
  only: ['status', '=', 'delivered'],
};
const USED_LINKS: Retained = {
  table: 'links',
  key: 'token_hash',
  at: 'used_at',
  only: ['used_at', 'is not', null],
};
const EXPIRED_LINKS: Retained = { table: 'links', key: 'token_hash', at: 'expires_at' };
const EXPIRED_WEB_SESSIONS: Retained = { table: 'web_sessions', key: 'id_hash', at: 'expires_at' };
const EXPIRED_SIGN_IN_LINKS: Retained = { table: 'sign_in_links', key: 'token_hash', at: 'expires_at' };

/** Deletes up to `limit` of the rows whose `at` lies before `before`, oldest first; returns how many. */
async function deleteOldest(db: Db, rows: Retained, before: Date, limit: number): Promise<number> {
  const { table, key, at, only } = rows;
  const result = await db
    .deleteFrom(table)
    .where(key, 'in', (eb) => {
      const batch = eb.selectFrom(table).select(key);
      return (only ? batch.where(only[0], only[1], only[2]) : batch)
        .where(at, '<', before.getTime())
        .orderBy(at)
        .limit(limit);
    })
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Deletes up to `limit` messages delivered before `before` (oldest first); returns how many.
 * Dead letters stay: an operator still has to look at them.
 */
export function deleteDeliveredOutbox(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldest(db, DELIVERED_OUTBOX, before, limit);
}

/** Deletes up to `limit` links used before `before`; returns how many. */
export function deleteUsedLinks(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldest(db, USED_LINKS, before, limit);
}

/**
 * Deletes up to `limit` web sessions and mailed sign-in links that expired before `before`;
 * returns how many. An idle session is refused once idle; its row goes at its absolute expiry.
 */
export async function deleteExpiredWebSessions(db: Db, before: Date, limit: number): Promise<number> {
  const signedIn = await deleteOldest(db, EXPIRED_WEB_SESSIONS, before, limit);
  const links = await deleteOldest(db, EXPIRED_SIGN_IN_LINKS, before, limit);
  return Math.max(signedIn, links);
}

/** Deletes up to `limit` links that expired before `before`, used or not; returns how many. */
export function deleteExpiredLinks(db: Db, before: Date, limit: number): Promise<number> {
  return deleteOldest(db, EXPIRED_LINKS, before, limit);
}

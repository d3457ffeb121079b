import type { Db } from './database.js';

/**
 * Deletes up to `limit` messages delivered before `before` (oldest first); returns how many.
 * Dead letters stay: an operator still has to look at them.
 */
export async function deleteDeliveredOutbox(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('outbox')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'delivered')
        .where('delivered_at', '<', before.getTime())
        .orderBy('delivered_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes up to `limit` links used before `before`; returns how many. */
export async function deleteUsedLinks(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('links')
    .where('token_hash', 'in', (eb) =>
      eb
        .selectFrom('links')
        .select('token_hash')
        .where('used_at', 'is not', null)
        .where('used_at', '<', before.getTime())
        .orderBy('used_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Deletes up to `limit` web sessions and mailed sign-in links that expired before `before`;
 * returns how many. An idle session is refused once idle; its row goes at its absolute expiry.
 */
export async function deleteExpiredWebSessions(db: Db, before: Date, limit: number): Promise<number> {
  let deleted = 0;
  for (const [table, key] of [
    ['web_sessions', 'id_hash'],
    ['sign_in_links', 'token_hash'],
  ] as const) {
    const result = await db
      .deleteFrom(table)
      .where(key, 'in', (eb) =>
        eb
          .selectFrom(table)
          .select(key)
          .where('expires_at', '<', before.getTime())
          .orderBy('expires_at')
          .limit(limit),
      )
      .executeTakeFirst();
    deleted = Math.max(deleted, Number(result.numDeletedRows));
  }
  return deleted;
}

/** Deletes up to `limit` links that expired before `before`, used or not; returns how many. */
export async function deleteExpiredLinks(db: Db, before: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('links')
    .where('token_hash', 'in', (eb) =>
      eb
        .selectFrom('links')
        .select('token_hash')
        .where('expires_at', '<', before.getTime())
        .orderBy('expires_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

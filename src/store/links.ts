import type { Db } from './database.js';
import type { LinkRow } from './schema.js';

export interface NewLink {
  readonly tokenHash: string;
  readonly approvalId: string;
  readonly stage: string;
  readonly approver: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Stores a link by the SHA-256 of its token; the token itself is never stored. */
export async function insertLink(db: Db, link: NewLink): Promise<void> {
  await db
    .insertInto('links')
    .values({
      token_hash: link.tokenHash,
      approval_id: link.approvalId,
      stage: link.stage,
      approver: link.approver,
      created_at: link.createdAt.getTime(),
      expires_at: link.expiresAt.getTime(),
      used_at: null,
      renewed_at: null,
      opened_at: null,
    })
    .execute();
}

/** One indexed read by primary key: the token hash. */
export async function findLinkByHash(db: Db, tokenHash: string): Promise<LinkRow | undefined> {
  return db.selectFrom('links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks a link used unless someone already did; false means it was used before. */
export async function markLinkUsed(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('links')
    .set({ used_at: now.getTime() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Marks a link opened the first time; false when it was opened before. */
export async function markLinkOpened(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('links')
    .set({ opened_at: now.getTime() })
    .where('token_hash', '=', tokenHash)
    .where('opened_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Marks a link renewed unless it already was; a link can be renewed only once. */
export async function markLinkRenewed(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('links')
    .set({ renewed_at: now.getTime() })
    .where('token_hash', '=', tokenHash)
    .where('renewed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

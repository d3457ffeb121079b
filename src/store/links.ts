import type { Db } from './database.js';
import { hotStatement } from './hot-statement.js';
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

const selectLink = hotStatement<LinkRow>(
  'select token_hash, approval_id, stage, approver, created_at, expires_at, used_at, renewed_at, opened_at from links where token_hash = ?',
);

/** One indexed read by primary key: the token hash. */
export async function findLinkByHash(db: Db, tokenHash: string): Promise<LinkRow | undefined> {
  return (await selectLink(db, [tokenHash])).rows[0];
}

/** The once-only moments of a link, each a column that is written at most once. */
export type LinkMark = 'opened' | 'renewed';

const updateMark = {
  opened: hotStatement('update links set opened_at = ? where token_hash = ? and opened_at is null'),
  renewed: hotStatement('update links set renewed_at = ? where token_hash = ? and renewed_at is null'),
} as const;

const spend = hotStatement(
  'update links set used_at = ? where token_hash = ? and used_at is null and expires_at > ?',
);

/**
 * Spends a link for a decision at `now`: true when it was unused and unexpired (and is now
 * used), false when it was neither, in one write and no read.
 */
export async function spendLink(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const result = await spend(db, [now.getTime(), tokenHash, now.getTime()]);
  return result.numAffectedRows === 1n;
}

/**
 * Records that a link was opened or renewed, unless that already happened; false means it
 * had (a link is renewed once, and its first opening is what counts).
 */
export async function markLink(db: Db, tokenHash: string, mark: LinkMark, now: Date): Promise<boolean> {
  const result = await updateMark[mark](db, [now.getTime(), tokenHash]);
  return result.numAffectedRows === 1n;
}

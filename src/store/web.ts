import type { Db } from './database.js';
import type { SignInLinkRow, WebSessionRow } from './schema.js';

/** Stores a sign-in link by the SHA-256 of its token; the token itself is never stored. */
export async function insertSignInLink(
  db: Db,
  link: { tokenHash: string; email: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sign_in_links')
    .values({
      token_hash: link.tokenHash,
      email: link.email,
      created_at: link.createdAt.getTime(),
      expires_at: link.expiresAt.getTime(),
      used_at: null,
    })
    .execute();
}

/** One indexed read by primary key: the token hash. */
export async function findSignInLink(db: Db, tokenHash: string): Promise<SignInLinkRow | undefined> {
  return db.selectFrom('sign_in_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Spends a sign-in link unless it was spent already; false means a racing request won. */
export async function markSignInLinkUsed(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('sign_in_links')
    .set({ used_at: now.getTime() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export interface NewWebSession {
  readonly idHash: string;
  readonly actor: string;
  readonly groups: readonly string[];
  /** The grants as JSON (sets become arrays). */
  readonly grants: string;
  readonly issuer: string | null;
  readonly subject: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Stores a session by the SHA-256 of its cookie value. */
export async function insertWebSession(db: Db, session: NewWebSession): Promise<void> {
  await db
    .insertInto('web_sessions')
    .values({
      id_hash: session.idHash,
      actor: session.actor,
      groups: JSON.stringify(session.groups),
      grants: session.grants,
      issuer: session.issuer,
      subject: session.subject,
      created_at: session.createdAt.getTime(),
      last_seen_at: session.createdAt.getTime(),
      expires_at: session.expiresAt.getTime(),
    })
    .execute();
}

/** One indexed read by primary key: the cookie's hash. */
export async function findWebSession(db: Db, idHash: string): Promise<WebSessionRow | undefined> {
  return db.selectFrom('web_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

/** Records activity, which pushes the idle expiry on. */
export async function touchWebSession(db: Db, idHash: string, now: Date): Promise<void> {
  await db
    .updateTable('web_sessions')
    .set({ last_seen_at: now.getTime() })
    .where('id_hash', '=', idHash)
    .execute();
}

/** Ends a session (sign out, or found expired). */
export async function deleteWebSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('web_sessions').where('id_hash', '=', idHash).execute();
}

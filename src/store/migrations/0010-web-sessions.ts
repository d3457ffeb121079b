import { type Kysely, sql } from 'kysely';

/**
 * The web app: sign-in links and sessions, both kept only as the SHA-256 of their secret,
 * the indexes the inbox reads by (requests by requester, decisions by person), and those the
 * sweeper prunes expired sessions and links by.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sign_in_links')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createTable('web_sessions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('groups', 'text', (c) => c.notNull())
    .addColumn('grants', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text')
    .addColumn('subject', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`create index sign_in_links_expires on sign_in_links (expires_at)`.execute(db);
  await sql`create index web_sessions_expires on web_sessions (expires_at)`.execute(db);
  await sql`create index approvals_requester on approvals (requester, id)`.execute(db);
  await sql`create index decisions_actor on decisions (actor, approval_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('decisions_actor').execute();
  await db.schema.dropIndex('approvals_requester').execute();
  await db.schema.dropIndex('web_sessions_expires').execute();
  await db.schema.dropIndex('sign_in_links_expires').execute();
  await db.schema.dropTable('web_sessions').execute();
  await db.schema.dropTable('sign_in_links').execute();
}

import { type Kysely, sql } from 'kysely';

/**
 * An approval belongs to whoever created it (a credential, or a restriction scope): supersede
 * and cancel stay within it. At most one approval per owner and key is pending, whatever
 * races the application loses. Approvals from before have no owner: only an admin cancels
 * them, and no key supersedes them. The token that asked (issuer and subject) is kept, so
 * that person never approves it with another token.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('approvals').addColumn('owner', 'varchar(64)').execute();
  await db.schema.alterTable('approvals').addColumn('requester_issuer', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('requester_subject', 'text').execute();
  await sql`create unique index approvals_pending_key on approvals (owner, supersede_key)
    where status = 'pending' and supersede_key is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('approvals_pending_key').execute();
  await db.schema.alterTable('approvals').dropColumn('requester_subject').execute();
  await db.schema.alterTable('approvals').dropColumn('requester_issuer').execute();
  await db.schema.alterTable('approvals').dropColumn('owner').execute();
}

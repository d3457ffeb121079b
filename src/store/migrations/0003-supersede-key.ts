import type { Kysely } from 'kysely';

/** Approvals may carry a key; a newer approval with the same key supersedes the pending older ones. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('approvals').addColumn('supersede_key', 'varchar(200)').execute();
  await db.schema
    .createIndex('approvals_supersede_key')
    .on('approvals')
    .columns(['supersede_key', 'status'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('approvals_supersede_key').execute();
  await db.schema.alterTable('approvals').dropColumn('supersede_key').execute();
}

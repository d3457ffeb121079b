import type { Kysely } from 'kysely';

/**
 * Whether each migration breaks older code, written by the signoff that knows it, so that an
 * older signoff meeting a migration it does not know can tell whether it may run beside it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('migration_flags')
    .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('breaking', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('migration_flags').execute();
}

import type { Kysely } from 'kysely';

/**
 * Delegation while away ("from A to B, my approvals go to C"), found by delegate (whose seats
 * may I fill now) and by delegator (whom do I ask instead); and, on a decision, whose seat a
 * delegate filled.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('delegations')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('delegator', 'varchar(320)', (c) => c.notNull())
    .addColumn('delegate', 'varchar(320)', (c) => c.notNull())
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('delegations_delegate')
    .on('delegations')
    .columns(['delegate', 'ends_at'])
    .execute();
  await db.schema
    .createIndex('delegations_delegator')
    .on('delegations')
    .columns(['delegator', 'ends_at'])
    .execute();
  await db.schema.alterTable('decisions').addColumn('on_behalf_of', 'varchar(320)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('decisions').dropColumn('on_behalf_of').execute();
  await db.schema.dropTable('delegations').execute();
}

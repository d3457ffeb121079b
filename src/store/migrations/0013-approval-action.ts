import type { Kysely } from 'kysely';

/**
 * The action an agent asks to take (canonical JSON) and its SHA-256: a decision is for that
 * action only. Nullable: approvals that name no action, and those from before, have neither.
 * An agent lists what its own credential asked for, newest first, by owner.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('approvals').addColumn('action', 'text').execute();
  await db.schema.alterTable('approvals').addColumn('action_hash', 'varchar(71)').execute();
  await db.schema.createIndex('approvals_owner').on('approvals').columns(['owner', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('approvals_owner').execute();
  await db.schema.alterTable('approvals').dropColumn('action_hash').execute();
  await db.schema.alterTable('approvals').dropColumn('action').execute();
}

import type { Kysely } from 'kysely';

/**
 * Multi-stage policies: an approval's stage results and escalations (JSON, written with its
 * status under the same version check), and per-policy counts of how often an AI reviewer
 * that only advised or shadowed agreed with the humans.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('approvals').addColumn('progress', 'text').execute();
  await db.schema
    .createTable('ai_agreement')
    .addColumn('policy', 'varchar(100)', (c) => c.notNull())
    .addColumn('stage', 'varchar(100)', (c) => c.notNull())
    .addColumn('mode', 'varchar(16)', (c) => c.notNull())
    .addColumn('agreed', 'integer', (c) => c.notNull())
    .addColumn('disagreed', 'integer', (c) => c.notNull())
    .addColumn('escalated', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('ai_agreement_pk', ['policy', 'stage'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ai_agreement').execute();
  await db.schema.alterTable('approvals').dropColumn('progress').execute();
}

import type { Kysely } from 'kysely';

/**
 * The after-review of each break-glass: open until someone it skipped confirms or flags it.
 * How the glass was broken is kept with the approval (its progress); this row is the task,
 * found by status and deadline for the overdue list and metric.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('break_glass_reviews')
    .addColumn('approval_id', 'varchar(40)', (c) => c.primaryKey().references('approvals.id'))
    .addColumn('broken_by', 'varchar(320)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('broken_at', 'bigint', (c) => c.notNull())
    // JSON array of approver entries (people and group:NAME) the skipped gates asked.
    .addColumn('reviewers', 'text', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('reviewed_by', 'varchar(320)')
    .addColumn('reviewed_at', 'bigint')
    .addColumn('comment', 'text')
    .execute();
  await db.schema
    .createIndex('break_glass_reviews_status')
    .on('break_glass_reviews')
    .columns(['status', 'due_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('break_glass_reviews').execute();
}

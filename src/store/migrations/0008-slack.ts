import type { Kysely } from 'kysely';

/**
 * Slack as a channel: every message posted for an approval (so each can be updated when the
 * approval changes), and the signatures of interaction requests already acted on (so a
 * replayed request has no second effect).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('slack_messages')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('approval_id', 'varchar(40)', (c) => c.notNull().references('approvals.id'))
    .addColumn('stage', 'varchar(100)', (c) => c.notNull())
    // A channel as configured (#deploys) or the approver a direct message went to.
    .addColumn('recipient', 'varchar(300)', (c) => c.notNull())
    // Where Slack put it (a channel or DM id) and its timestamp: what chat.update needs.
    .addColumn('channel', 'varchar(40)', (c) => c.notNull())
    .addColumn('ts', 'varchar(40)', (c) => c.notNull())
    .addColumn('posted_at', 'bigint', (c) => c.notNull())
    .execute();
  // One message per stage and recipient, whatever a retried post does.
  await db.schema
    .createIndex('slack_messages_recipient')
    .on('slack_messages')
    .columns(['approval_id', 'stage', 'recipient'])
    .unique()
    .execute();

  await db.schema
    .createTable('slack_requests')
    .addColumn('signature', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('slack_requests_seen_at').on('slack_requests').column('seen_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('slack_requests').execute();
  await db.schema.dropTable('slack_messages').execute();
}

import type { Kysely } from 'kysely';

/** The approval spine: approvals, decisions, links, outbox, audit, API keys. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('approvals')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('link', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('requester', 'text')
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('callback', 'text')
    .addColumn('notify', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('reason', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('idempotency_owner', 'varchar(64)')
    .addColumn('idempotency_key', 'varchar(255)')
    .addColumn('request_hash', 'varchar(64)')
    .execute();
  // The sweeper finds due approvals; the list pages by status and id.
  await db.schema
    .createIndex('approvals_status_expires')
    .on('approvals')
    .columns(['status', 'expires_at'])
    .execute();
  await db.schema.createIndex('approvals_status_id').on('approvals').columns(['status', 'id']).execute();
  await db.schema
    .createIndex('approvals_idempotency')
    .on('approvals')
    .columns(['idempotency_owner', 'idempotency_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('decisions')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('approval_id', 'varchar(40)', (c) => c.notNull().references('approvals.id'))
    .addColumn('stage', 'varchar(100)', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('groups', 'text', (c) => c.notNull())
    .addColumn('verdict', 'varchar(16)', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('via', 'varchar(16)', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  // A person decides once per stage, whatever races the application loses.
  await db.schema
    .createIndex('decisions_one_per_actor')
    .on('decisions')
    .columns(['approval_id', 'stage', 'actor'])
    .unique()
    .execute();

  await db.schema
    .createTable('links')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('approval_id', 'varchar(40)', (c) => c.notNull().references('approvals.id'))
    .addColumn('stage', 'varchar(100)', (c) => c.notNull())
    .addColumn('approver', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('renewed_at', 'bigint')
    .addColumn('opened_at', 'bigint')
    .execute();
  await db.schema.createIndex('links_approval').on('links').column('approval_id').execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('approval_id', 'varchar(40)')
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_approval').on('outbox').column('approval_id').execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('approval_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_approval')
    .on('audit_events')
    .columns(['approval_id', 'id'])
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['api_keys', 'audit_events', 'outbox', 'links', 'decisions', 'approvals']) {
    await db.schema.dropTable(table).execute();
  }
}

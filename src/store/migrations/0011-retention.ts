import { type Kysely, sql } from 'kysely';

/**
 * Indexes by which the sweeper finds what the retention setting lets go: delivered outbox
 * messages (by status, since the status is a parameter, which a partial index cannot match)
 * and spent links (partial: unused links add nothing to it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('outbox_delivered').on('outbox').columns(['status', 'delivered_at']).execute();
  await sql`create index links_used on links (used_at) where used_at is not null`.execute(db);
  await db.schema.createIndex('links_expires').on('links').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('links_expires').execute();
  await db.schema.dropIndex('links_used').execute();
  await db.schema.dropIndex('outbox_delivered').execute();
}

import type { Kysely } from 'kysely';

/** What an approver filled in when deciding (JSON), for stages that ask for inputs. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('decisions').addColumn('inputs', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('decisions').dropColumn('inputs').execute();
}

import type { Kysely } from 'kysely';

/** Decisions made with a token record the token's issuer and subject. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('decisions').addColumn('issuer', 'text').execute();
  await db.schema.alterTable('decisions').addColumn('subject', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('decisions').dropColumn('subject').execute();
  await db.schema.alterTable('decisions').dropColumn('issuer').execute();
}

import { type Kysely, sql } from 'kysely';

/**
 * The policy in force: each approval records the version of the policy it was created under
 * (a named policy's, or its inline policy's hash), and `policy_versions` is the change log of
 * the policy and routing files, chained per policy (src/core/policy-version.ts). Approvals get
 * an index by creation time, which the evidence pack reads a period by.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('approvals').addColumn('policy_version', 'varchar(71)').execute();
  await db.schema
    .createTable('policy_versions')
    // `policy` for a named policy, `routes` for the routing file.
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    // `sha256:HEX` of `content`; both null when the policy was no longer in the file.
    .addColumn('version', 'varchar(71)')
    .addColumn('content', 'text')
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('prev_hash', 'varchar(64)')
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    // A second instance appending the same entry finds the place taken.
    .addPrimaryKeyConstraint('policy_versions_pkey', ['source', 'name', 'seq'])
    .execute();
  await sql`create index approvals_created on approvals (created_at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('approvals_created').execute();
  await db.schema.dropTable('policy_versions').execute();
  await db.schema.alterTable('approvals').dropColumn('policy_version').execute();
}

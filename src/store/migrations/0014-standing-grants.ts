import type { Kysely } from 'kysely';

/**
 * Standing grants: an approver's "approve, and the same action again for the next N uses or
 * T minutes, for this requester". A grant is found, at create, by the owner scope of the
 * credential it is for; listed by its granter and by its requester; its uses are counted on the row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('standing_grants')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    // The approval it was granted on: its audit chain records the grant, each use and the end.
    .addColumn('approval_id', 'varchar(40)', (c) => c.notNull().references('approvals.id'))
    .addColumn('granter', 'varchar(320)', (c) => c.notNull())
    // The granter's groups and token when granting: a use decides as they did.
    .addColumn('granter_groups', 'text', (c) => c.notNull())
    .addColumn('granter_issuer', 'varchar(500)')
    .addColumn('granter_subject', 'varchar(500)')
    // Whom it is for: the requester and the owner scope (hashed) of the approval.
    .addColumn('requester', 'varchar(320)')
    .addColumn('owner', 'varchar(64)', (c) => c.notNull())
    // The gate it holds for: the policy (a hash of the whole of it) and the stage.
    .addColumn('policy_hash', 'varchar(71)', (c) => c.notNull())
    .addColumn('stage', 'varchar(100)', (c) => c.notNull())
    // What it allows: the exact action (its hash), or any action of one tool.
    .addColumn('match', 'varchar(16)', (c) => c.notNull())
    .addColumn('action_hash', 'varchar(71)')
    .addColumn('tool', 'varchar(200)')
    .addColumn('max_uses', 'integer', (c) => c.notNull())
    .addColumn('uses', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_by', 'varchar(320)')
    .execute();
  await db.schema
    .createIndex('standing_grants_owner')
    .on('standing_grants')
    .columns(['owner', 'expires_at'])
    .execute();
  await db.schema
    .createIndex('standing_grants_granter')
    .on('standing_grants')
    .columns(['granter', 'id'])
    .execute();
  await db.schema
    .createIndex('standing_grants_requester')
    .on('standing_grants')
    .columns(['requester', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('standing_grants').execute();
}

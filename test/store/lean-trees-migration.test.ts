import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, isPostgres, isUniqueViolation, openDatabase } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { BACKEND, createTestDatabase, type TestDatabase } from '../helpers/database.js';

type Row = Record<string, unknown>;

let dir: string;
let database: TestDatabase;
let db: Db;
let raw: Kysely<Record<string, Row>>;

const approval = (id: string, idempotencyKey: string | null): Row => ({
  id,
  status: 'pending',
  title: `title of ${id}`,
  metadata: '{}',
  policy: '{}',
  notify: '[]',
  created_at: 1_700_000_000_000,
  expires_at: 1_800_000_000_000,
  version: 1,
  idempotency_owner: idempotencyKey ? 'owner' : null,
  idempotency_key: idempotencyKey,
  supersede_key: id === 'apr_A' ? 'nightly' : null,
  owner: 'owner',
});
const decision = (id: string, actor: string): Row => ({
  id,
  approval_id: 'apr_A',
  stage: 'approval',
  actor,
  groups: '[]',
  verdict: 'approve',
  via: 'api',
  at: 1_700_000_000_100,
  inputs: '{"environment":"prod"}',
});
const event = (id: string, seq: number): Row => ({
  id,
  approval_id: 'apr_A',
  type: 'approval.decision',
  data: `{"n":${seq}}`,
  at: 1_700_000_000_000 + seq,
  seq,
  prev_hash: seq === 1 ? null : `hash${seq - 1}`,
  hash: `hash${seq}`,
});
const link = (tokenHash: string, usedAt: number | null): Row => ({
  token_hash: tokenHash,
  approval_id: 'apr_A',
  stage: 'approval',
  approver: 'lead@example.com',
  created_at: 1_700_000_000_000,
  expires_at: 1_700_003_600_000,
  used_at: usedAt,
});

/** Every row of the four tables the migration touches, in a fixed order. */
async function everyRow() {
  return {
    approvals: await raw.selectFrom('approvals').selectAll().orderBy('id').execute(),
    decisions: await raw.selectFrom('decisions').selectAll().orderBy('id').execute(),
    audit: await raw.selectFrom('audit_events').selectAll().orderBy('id').execute(),
    links: await raw.selectFrom('links').selectAll().orderBy('token_hash').execute(),
  };
}

async function refused(table: string, row: Row): Promise<boolean> {
  return raw
    .insertInto(table)
    .values(row)
    .execute()
    .then(
      () => false,
      (error: unknown) => isUniqueViolation(error),
    );
}

/** The names of the indexes of a table that are not its own key. */
async function indexesOf(table: string): Promise<string[]> {
  const rows = isPostgres(db)
    ? await sql<{ name: string }>`select indexname as name from pg_indexes
        where schemaname = current_schema() and tablename = ${table} and indexname not like '%_pkey'`.execute(
        db,
      )
    : await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = ${table}`.execute(db);
  return rows.rows.map((r) => r.name).sort();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-lean-'));
  database = await createTestDatabase(dir);
  const schema = database.env.SIGNOFF_DATABASE_SCHEMA;
  db = openDatabase({ url: database.env.SIGNOFF_DATABASE_URL ?? '', schema });
  raw = db as unknown as Kysely<Record<string, Row>>;
  if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    ...(isPostgres(db) && schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateTo('0018-delegations');
  if (error) throw error;
  await raw
    .insertInto('approvals')
    .values([approval('apr_A', 'deploy-1'), approval('apr_B', null), approval('apr_C', null)])
    .execute();
  await raw
    .insertInto('decisions')
    .values([decision('dec_1', 'lead@example.com'), decision('dec_2', 'ops@example.com')])
    .execute();
  await raw
    .insertInto('audit_events')
    .values([event('evt_1', 1), event('evt_2', 2), event('evt_3', 3)])
    .execute();
  await raw
    .insertInto('links')
    .values([link('a'.repeat(64), null), link('b'.repeat(64), 1_700_000_000_200)])
    .execute();
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 0019 (fewer trees to write)', () => {
  it('keeps every row as it was, also when it runs again after it was applied but not recorded', async () => {
    const before = await everyRow();
    expect(await migrate(db)).toEqual(['0019-lean-trees']);
    expect(await everyRow()).toEqual(before);
    await MIGRATIONS['0019-lean-trees']?.up(db);
    expect(await everyRow()).toEqual(before);
  });

  it('still refuses a second vote, a second event at one place in a chain, a reused link and idempotency key', async () => {
    expect(await refused('decisions', { ...decision('dec_3', 'lead@example.com') })).toBe(true);
    expect(await refused('audit_events', event('evt_4', 3))).toBe(true);
    expect(await refused('audit_events', { ...event('evt_1', 9) })).toBe(true);
    expect(await refused('links', link('a'.repeat(64), null))).toBe(true);
    expect(await refused('approvals', approval('apr_D', 'deploy-1'))).toBe(true);
    // Creates without a key are not in the idempotency index at all, and never collide.
    expect(await refused('approvals', approval('apr_E', null))).toBe(false);
    expect(await refused('decisions', decision('dec_4', 'third@example.com'))).toBe(false);
  });

  it('leaves only the indexes a query reads; on SQLite the three tables are stored in their keys', async () => {
    expect(await indexesOf('approvals')).not.toContain('approvals_supersede_key');
    expect(await indexesOf('approvals')).toContain('approvals_pending_key');
    expect(await indexesOf('audit_events')).not.toContain('audit_events_approval');
    if (BACKEND === 'postgres') return;
    expect(await indexesOf('decisions')).toEqual(['decisions_actor']);
    expect(await indexesOf('audit_events')).toEqual(['audit_events_id']);
    expect(await indexesOf('links')).toEqual(['links_approval', 'links_expires', 'links_used']);
    const tables = await sql<{ sql: string }>`select sql from sqlite_master
      where type = 'table' and name in ('decisions', 'audit_events', 'links')`.execute(db);
    for (const table of tables.rows) expect(table.sql).toMatch(/without rowid$/);
  });
});

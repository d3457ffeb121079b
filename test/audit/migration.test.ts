import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBrokenLink } from '../../src/core/audit-chain.js';
import { listAudit, toChainedEvent } from '../../src/store/audit.js';
import { type Db, isPostgres, openDatabase } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let dir: string;
let database: TestDatabase;
let db: Db;

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-chain-'));
  database = await createTestDatabase(dir);
  const schema = database.env.SIGNOFF_DATABASE_SCHEMA;
  db = openDatabase({ url: database.env.SIGNOFF_DATABASE_URL ?? '', schema });
  if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  // The schema as it was before the chain: every migration up to 0006.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    ...(isPostgres(db) && schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateTo('0006-approval-owner');
  if (error) throw error;
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('migration 0007', () => {
  it('chains the audit events written before it, per approval in the order they were written', async () => {
    const old = db as unknown as Kysely<{ audit_events: Record<string, unknown> }>;
    const rows = ['apr_B', 'apr_A', 'apr_B', 'apr_A', 'apr_B'].map((approvalId, n) => ({
      id: `evt_0${n}`,
      approval_id: approvalId,
      type: 'link.opened',
      actor: n % 2 ? 'lead@example.com' : null,
      data: JSON.stringify({ n, nested: { z: 1, a: [true, null, 'x'] } }),
      at: 1_700_000_000_000 + n,
    }));
    await old.insertInto('audit_events').values(rows).execute();

    expect(await migrate(db)).toContain('0007-audit-chain');

    for (const [approvalId, count] of [
      ['apr_A', 2],
      ['apr_B', 3],
    ] as const) {
      const chain = (await listAudit(db, approvalId)).map(toChainedEvent);
      expect(chain.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(chain.map((e) => e.id)).toEqual(
        rows.filter((r) => r.approval_id === approvalId).map((r) => r.id),
      );
      expect(chain[0]?.prevHash).toBeNull();
      expect(findBrokenLink(chain, sha256Hex)).toBeUndefined();
    }
  });
});

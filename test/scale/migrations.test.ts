import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Migration, Migrator, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/store/database.js';
import { type MigrationLog, migrate } from '../../src/store/migrate.js';
import { KNOWN_MIGRATIONS, MIGRATIONS } from '../../src/store/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually } from '../helpers/receiver.js';

// Instances of a rolling deploy start together on one PostgreSQL database.
let dir: string;
const opened: Db[] = [];
const databases: TestDatabase[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-migrations-'));
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.destroy();
  for (const database of databases.splice(0)) await database.drop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh schema and `count` instances' connection pools on it. */
async function instancesOnFreshSchema(count: number) {
  const database = await createTestDatabase(dir);
  databases.push(database);
  const schema = database.env.SIGNOFF_DATABASE_SCHEMA as string;
  const dbs = Array.from({ length: count }, () =>
    openDatabase({ url: database.env.SIGNOFF_DATABASE_URL as string, schema, poolSize: 2 }),
  );
  opened.push(...dbs);
  return { schema, dbs };
}

describe('migrating at once', () => {
  it('lets two instances of one version migrate a fresh schema together', async () => {
    const {
      schema,
      dbs: [a, b],
    } = await instancesOnFreshSchema(2);
    if (!a || !b) throw new Error('two instances expected');
    const [byA, byB] = await Promise.all([migrate(a, schema), migrate(b, schema)]);
    expect([...byA, ...byB].sort()).toEqual(KNOWN_MIGRATIONS);
    const flags = await a.selectFrom('migration_flags').select('name').orderBy('name').execute();
    expect(flags.map((f) => f.name)).toEqual(KNOWN_MIGRATIONS);
  });

  it('lets an instance that waited for the lock while a newer one migrated past it run beside it', async () => {
    const {
      schema,
      dbs: [older, newer, observer],
    } = await instancesOnFreshSchema(3);
    if (!older || !newer || !observer) throw new Error('three pools expected');
    const last = KNOWN_MIGRATIONS[KNOWN_MIGRATIONS.length - 1] as string;
    // The database as the release before the last migration left it.
    const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < last));
    const base = await new Migrator({
      db: newer,
      provider: { getMigrations: async () => before },
      migrationTableSchema: schema,
    }).migrateToLatest();
    expect(base.error).toBeUndefined();

    // A newer release: every known migration, then an additive one that holds its transaction
    // (and the migration lock) open until the test lets it finish.
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let newerPid = 0;
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const future: Migration = {
      async up(db) {
        await db.schema.createTable('future_things').addColumn('id', 'integer').execute();
        await db.insertInto('migration_flags').values({ name: '9999-future-things', breaking: 0 }).execute();
        const backend = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
        newerPid = backend.rows[0]?.pid ?? 0;
        entered();
        await gate;
      },
    };
    const newerRun = new Migrator({
      db: newer,
      provider: { getMigrations: async () => ({ ...MIGRATIONS, '9999-future-things': future }) },
      migrationTableSchema: schema,
    }).migrateToLatest();
    await inside;

    // The older release still sees its last migration pending, so it queues for the lock.
    const warned: (readonly string[])[] = [];
    const log: MigrationLog = { warn: (details) => warned.push(details.migrations) };
    const olderRun = migrate(older, schema, log);
    await eventually(async () => {
      const waiting = await sql<{ count: number }>`
        select count(*)::int as count from pg_locks
        where locktype = 'advisory' and not granted and ${newerPid}::int = any(pg_blocking_pids(pid))`.execute(
        observer,
      );
      expect(waiting.rows[0]?.count).toBe(1);
    });
    finish();

    expect((await newerRun).error).toBeUndefined();
    expect(await olderRun).toEqual([]);
    expect(warned).toEqual([['9999-future-things']]);
  });
});

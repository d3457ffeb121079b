import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createSignoff } from '../../src/server.js';
import { type Db, isPostgres } from '../../src/store/database.js';
import { type MigrationLog, migrate } from '../../src/store/migrate.js';
import { KNOWN_MIGRATIONS, MIGRATIONS } from '../../src/store/migrations/index.js';
import { BACKEND } from '../helpers/database.js';
import { type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { workers: false });
});
afterAll(async () => h.close());

it('runs on the backend this test project names', () => {
  expect(isPostgres(h.signoff.services.db)).toBe(BACKEND === 'postgres');
});

describe('migrations from a newer signoff', () => {
  const FUTURE = '9999-from-the-future';

  /** Makes the database look migrated by a newer signoff: one more migration, flagged or not. */
  async function applyFutureMigration(db: Db, flag: 'additive' | 'breaking' | 'unrecorded') {
    await sql`insert into kysely_migration (name, timestamp) values (${FUTURE}, ${new Date().toISOString()})`.execute(
      db,
    );
    if (flag !== 'unrecorded')
      await db
        .insertInto('migration_flags')
        .values({ name: FUTURE, breaking: flag === 'breaking' ? 1 : 0 })
        .execute();
  }

  /** A log that keeps what it is told, and pino lines for a whole signoff start. */
  function capturingLog() {
    const warned: (readonly string[])[] = [];
    const lines: { level: number; migrations?: string[] }[] = [];
    const log: MigrationLog = { warn: (details) => warned.push(details.migrations) };
    const logger = createLogger('warn', { write: (line: string) => lines.push(JSON.parse(line)) });
    return { log, warned, logger, lines };
  }

  afterEach(async () => {
    const { db } = h.signoff.services;
    await sql`delete from kysely_migration where name = ${FUTURE}`.execute(db);
    await db.deleteFrom('migration_flags').where('name', '=', FUTURE).execute();
  });

  it('migrates idempotently and records for every migration whether it breaks', async () => {
    const { db, config } = h.signoff.services;
    expect(await migrate(db, config.databaseSchema)).toEqual([]);
    const flags = await db
      .selectFrom('migration_flags')
      .select(['name', 'breaking'])
      .orderBy('name')
      .execute();
    expect(flags.map((f) => ({ name: f.name, breaking: Number(f.breaking) }))).toEqual(
      KNOWN_MIGRATIONS.map((name) => ({ name, breaking: MIGRATIONS[name]?.change === 'breaking' ? 1 : 0 })),
    );
  });

  it('starts beside an unknown additive migration and warns with its name', async () => {
    const { db, config } = h.signoff.services;
    await applyFutureMigration(db, 'additive');
    const { log, warned, logger, lines } = capturingLog();
    expect(await migrate(db, config.databaseSchema, log)).toEqual([]);
    expect(warned).toEqual([[FUTURE]]);

    const older = await createSignoff(config, { logger, workers: false });
    try {
      expect((await older.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await older.close();
    }
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, migrations: [FUTURE] }));
  });

  it('refuses to start beside an unknown breaking migration', async () => {
    const { db, config } = h.signoff.services;
    await applyFutureMigration(db, 'breaking');
    await expect(migrate(db, config.databaseSchema)).rejects.toMatchObject({ code: 'schema_too_new' });
    await expect(
      createSignoff(config, { logger: capturingLog().logger, workers: false }),
    ).rejects.toMatchObject({ code: 'schema_too_new' });
  });

  it('refuses an unknown migration that does not say whether it breaks', async () => {
    const { db, config } = h.signoff.services;
    await applyFutureMigration(db, 'unrecorded');
    await expect(migrate(db, config.databaseSchema)).rejects.toMatchObject({ code: 'schema_too_new' });
  });
});

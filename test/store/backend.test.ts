import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isPostgres, migrate } from '../../src/store/database.js';
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

it('migrates idempotently and refuses a schema newer than it knows', async () => {
  const { db, config } = h.signoff.services;
  expect(await migrate(db, config.databaseSchema)).toEqual([]);
  await sql`insert into kysely_migration (name, timestamp) values ('9999-from-the-future', 'now')`.execute(
    db,
  );
  await expect(migrate(db, config.databaseSchema)).rejects.toMatchObject({ code: 'schema_too_new' });
});

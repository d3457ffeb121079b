import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

// PostgreSQL only (vitest.config.ts): SQLite prepares every statement once whatever the setting.
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** What the server logged at warn and above. */
let logged: { msg: string; err?: { message?: string } }[] = [];

/** One pooled connection, so the test reads the prepared statements of the connection that ran them. */
async function start(env: Record<string, string> = {}): Promise<Harness> {
  logged = [];
  const logger = createLogger('warn', { write: (line: string) => logged.push(JSON.parse(line)) });
  h = await startHarness({ SIGNOFF_DATABASE_POOL_SIZE: '1', ...env }, { workers: false, logger });
  return h;
}

async function preparedNames(harness: Harness): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(
    harness.signoff.services.db,
  );
  return result.rows.map((row) => row.name);
}

describe('prepared statements (PostgreSQL)', () => {
  it('keep the statements of a read prepared, and read on when a newer signoff adds a column', async () => {
    const harness = await start();
    const created = await harness.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() });
    expect(created.statusCode).toBe(201);
    const url = `/v1/approvals/${created.json().id}`;
    const first = await harness.api({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    expect(
      (await preparedNames(harness)).filter((name) => name.startsWith('signoff_')).length,
    ).toBeGreaterThan(0);

    // An additive migration of a newer release, run while this instance holds its statements.
    const { db } = harness.signoff.services;
    await sql`alter table approvals add column added_by_a_newer_release text`.execute(db);
    await sql`alter table decisions add column added_by_a_newer_release text`.execute(db);
    const again = await harness.api({ method: 'GET', url });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
  });

  it.each([
    [
      'a newer release changed the type of a column they read',
      sql`alter table approvals alter column title type varchar(2000)`,
    ],
    ['a pooler gave the session another server connection', sql`deallocate all`],
  ])('are given up, answering all the same, when PostgreSQL refuses them: %s', async (_case, change) => {
    const harness = await start();
    const created = await harness.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() });
    const url = `/v1/approvals/${created.json().id}`;
    const first = await harness.api({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    await change.execute(harness.signoff.services.db);

    const again = await harness.api({ method: 'GET', url });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    const told = logged.filter((line) =>
      line.err?.message?.includes('SIGNOFF_DATABASE_PREPARED_STATEMENTS=off'),
    );
    expect(told).toHaveLength(1);
    // Later requests, writes in transactions included, run unprepared.
    const decided = await harness.api({
      method: 'POST',
      url: `${url}/decisions`,
      token: await harness.keyFor('lead@example.com', ['approvals:decide']),
      payload: { verdict: 'approve' },
    });
    expect(decided.statusCode).toBe(201);
    expect(logged.filter((line) => line.err?.message?.includes('prepared statement'))).toHaveLength(1);
  });

  it('are not used when switched off, for a pooler that cannot carry them', async () => {
    const harness = await start({ SIGNOFF_DATABASE_PREPARED_STATEMENTS: 'off' });
    const created = await harness.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() });
    expect(created.statusCode).toBe(201);
    expect((await harness.api({ method: 'GET', url: `/v1/approvals/${created.json().id}` })).statusCode).toBe(
      200,
    );
    expect(await preparedNames(harness)).toEqual([]);
  });
});

it('SIGNOFF_DATABASE_PREPARED_STATEMENTS refuses other than on or off, naming it', () => {
  expect(loadConfig({}).databasePreparedStatements).toBe(true);
  expect(loadConfig({ SIGNOFF_DATABASE_PREPARED_STATEMENTS: 'off' }).databasePreparedStatements).toBe(false);
  expect(() => loadConfig({ SIGNOFF_DATABASE_PREPARED_STATEMENTS: 'no' })).toThrow(
    expect.objectContaining({
      code: 'invalid_input',
      message: expect.stringContaining('SIGNOFF_DATABASE_PREPARED_STATEMENTS'),
    }),
  );
});

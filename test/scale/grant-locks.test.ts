import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND, POSTGRES_URL } from '../helpers/database.js';
import { type GrantHarness, startGrantHarness } from '../helpers/grants.js';
import type { Harness } from '../helpers/harness.js';
import { eventually } from '../helpers/receiver.js';

// Two grants made on one approval (the lead's for the exact action, the SRE's for any call of the
// tool). A create both cover and a revoke of one of them lock the same rows: grants first, then the
// chain of the approval they were granted on, in that order for both, so neither waits on the other
// in a circle (PostgreSQL would answer one of them 40P01, deadlock detected).

let h: Harness;
let setup: GrantHarness;
let agent: string;
let lead: string;
let sre: string;
let holder: pg.Client;
let schema: string;

beforeAll(async () => {
  setup = await startGrantHarness({ SIGNOFF_DATABASE_POOL_SIZE: '8' });
  ({ h, agent, lead, sre } = setup);
  holder = new pg.Client({ connectionString: POSTGRES_URL });
  await holder.connect();
  schema = h.signoff.services.config.databaseSchema ?? '';
});
afterAll(async () => {
  await holder?.end();
  await setup?.close();
});

function ask(action: unknown) {
  return h.api({
    method: 'POST',
    url: '/v1/approvals',
    token: agent,
    payload: { title: 'Agent: deploy', policy: 'pair', action },
  });
}

/** How many backends wait, directly or in a queue, behind the backend `pid`. */
async function waitersBehind(pid: number): Promise<number> {
  const { rows } = await holder.query<{ pid: number; b: number[] }>(
    'select pid, pg_blocking_pids(pid) as b from pg_stat_activity where cardinality(pg_blocking_pids(pid)) > 0',
  );
  const behind = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of rows)
      if (!behind.has(row.pid) && row.b.some((p) => behind.has(p))) {
        behind.add(row.pid);
        grew = true;
      }
  }
  return behind.size - 1;
}

/** Waits (within the suite's patience) until `count` backends wait behind `pid`. */
function untilWaitersBehind(pid: number, count: number) {
  return eventually(async () => expect(await waitersBehind(pid)).toBeGreaterThanOrEqual(count));
}

describe('two grants made on one approval', () => {
  it('a create using both and a revoke of one, lined up on the same rows, both go through', async () => {
    expect(BACKEND).toBe('postgres');
    const x = { tool: 'Deploy', arguments: { service: 'web' } };
    const origin = (await ask(x)).json();
    const grant = (token: string, match: string) =>
      h.api({
        method: 'POST',
        url: `/v1/approvals/${origin.id}/decisions`,
        token,
        payload: { verdict: 'approve', grant: { uses: 5, for: '30m', match } },
      });
    expect((await grant(lead, 'action')).statusCode).toBe(201);
    expect((await grant(sre, 'tool')).statusCode).toBe(201);
    const list = (await h.api({ method: 'GET', url: '/v1/grants', token: sre })).json().items as {
      id: string;
      granter: string;
    }[];
    const sreGrant = list.find((g) => g.granter === 'sre@example.com');

    // Hold the origin's row (as any writer of its audit chain does) only to line the two up.
    await holder.query(`set search_path to "${schema}"`);
    const pid = (await holder.query('select pg_backend_pid() as pid')).rows[0].pid as number;
    await holder.query('begin');
    await holder.query('select id from approvals where id = $1 for update', [origin.id]);
    // The create takes both grants' rows, then waits for the origin's chain.
    const create = ask(x);
    await untilWaitersBehind(pid, 1);
    // The revoke waits for the SRE's grant row, which the create holds.
    const revoke = h.api({ method: 'POST', url: `/v1/grants/${sreGrant?.id}/revoke`, token: sre });
    await untilWaitersBehind(pid, 2);
    await holder.query('commit');

    const [created, revoked] = await Promise.all([create, revoke]);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().status).toBe('approved');
    expect(revoked.statusCode, revoked.body).toBe(200);
  });
});

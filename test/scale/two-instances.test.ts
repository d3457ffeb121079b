import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { newId } from '../../src/ids.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, sendGet, startServerProcess, stopProcess } from '../helpers/process.js';
import { eventually, type ReceivedRequest, startReceiver } from '../helpers/receiver.js';

// Two signoff processes on one PostgreSQL database: the guarantees must hold across them.
const ADMIN = 'sk_scale_test_admin_key_0123456789';
let dir: string;
let database: TestDatabase;
let db: Db;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const servers: { child: ChildProcess; url: string }[] = [];

async function startInstance() {
  const server = await startServerProcess({
    ...database.env,
    SIGNOFF_PORT: String(await freePort()),
    SIGNOFF_ADMIN_KEY: ADMIN,
    SIGNOFF_POLL_INTERVAL: '0.1s',
    SIGNOFF_RETRY_BASE: '0.2s',
    SIGNOFF_HTTP_TIMEOUT: '1s',
    SIGNOFF_LINK_RATE_LIMIT: '100000',
    SIGNOFF_LOG_LEVEL: 'error',
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-scale-'));
  database = await createTestDatabase(dir);
  receiver = await startReceiver();
  await startInstance();
  await startInstance();
  db = openDatabase({
    url: database.env.SIGNOFF_DATABASE_URL as string,
    schema: database.env.SIGNOFF_DATABASE_SCHEMA,
  });
});
afterAll(async () => {
  for (const server of servers) await stopProcess(server.child, 'SIGKILL');
  await db?.destroy();
  await receiver.stop();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

function instance(i: number) {
  const server = servers[i];
  if (!server) throw new Error(`no instance ${i}`);
  return server.url;
}

async function call(base: string, method: string, path: string, body?: unknown, token = ADMIN) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { id: string; status: string },
  };
}

/** Creates `count` approvals, alternating between the instances, a few at a time. */
async function createMany(count: number, body: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 20) {
    const batch = Array.from({ length: Math.min(20, count - start) }, (_, i) =>
      call(instance((start + i) % 2), 'POST', '/v1/approvals', { ...body, title: `bulk ${start + i}` }),
    );
    for (const created of await Promise.all(batch)) {
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
  }
  return ids;
}

function delivered(type: string, ids: Set<string>): ReceivedRequest[] {
  return receiver.received.filter((r) => {
    if (r.status !== 200) return false;
    const event = JSON.parse(r.body);
    return event.type === type && ids.has(event.data.id);
  });
}

// A thousand approvals through two processes: give a loaded machine room (the waits below end
// as soon as the work is done).
describe('two instances on one PostgreSQL database', { timeout: 300_000 }, () => {
  it('creates on A, decides on B, and wakes a waiter on A at once, not at its timeout', async () => {
    const lead = await createApiKey(db, newId, new Date(), {
      name: 'lead',
      actor: 'lead@example.com',
      permissions: ['approvals:decide'],
    });
    const created = await call(instance(0), 'POST', '/v1/approvals', {
      title: 'cross',
      approvers: ['lead@example.com'],
      notify: [],
    });
    const { answer } = await sendGet(`${instance(0)}/v1/approvals/${created.body.id}/wait?timeout=30s`, {
      authorization: `Bearer ${ADMIN}`,
    });
    // Nothing tells when A's long poll has started waiting; once A has answered a later read of
    // the same approval, through the same checks, it very likely has. Had it not, the waiter
    // would find the approval decided and the test would pass without a wake-up to show.
    expect((await call(instance(0), 'GET', `/v1/approvals/${created.body.id}`)).status).toBe(200);
    const decided = await call(
      instance(1),
      'POST',
      `/v1/approvals/${created.body.id}/decisions`,
      { verdict: 'approve' },
      lead.secret,
    );
    const decidedAt = Date.now();
    expect(decided.status).toBe(201);
    const woken = await answer;
    // A waiter that was not woken answers "pending" at its timeout, 30 s on; a NOTIFY takes
    // milliseconds. Ten seconds tells them apart on any machine.
    expect(JSON.parse(woken.body).status).toBe('approved');
    expect(woken.at - decidedAt).toBeLessThan(10_000);
  });

  it('turns 50 concurrent decisions spread over both instances into exactly one', async () => {
    const approvers = Array.from({ length: 50 }, (_, i) => `approver${i}@example.com`);
    const keys = await Promise.all(
      approvers.map((actor) =>
        createApiKey(db, newId, new Date(), { name: actor, actor, permissions: ['approvals:decide'] }),
      ),
    );
    const created = await call(instance(0), 'POST', '/v1/approvals', {
      title: 'race',
      approvers,
      required: 1,
      notify: [],
    });
    const results = await Promise.all(
      keys.map((key, i) =>
        call(
          instance(i % 2),
          'POST',
          `/v1/approvals/${created.body.id}/decisions`,
          { verdict: i % 3 ? 'approve' : 'reject' },
          key.secret,
        ),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const stored = await call(instance(1), 'GET', `/v1/approvals/${created.body.id}`);
    expect(stored.body.decisions).toHaveLength(1);
  });

  it('delivers 1,000 callbacks from both instances, each exactly once', async () => {
    const ids = new Set(
      await createMany(1000, {
        approvers: ['lead@example.com'],
        notify: [],
        callback: { type: 'webhook', url: receiver.url },
      }),
    );
    await eventually(
      () => expect(delivered('approval.created', ids).length).toBeGreaterThanOrEqual(1000),
      60_000,
    );
    const events = delivered('approval.created', ids);
    expect(new Set(events.map((r) => r.headers['webhook-id'])).size).toBe(1000);
    expect(events).toHaveLength(1000);
  });

  it('expires 1,000 due approvals once each and tells each callback of one event', async () => {
    const ids = new Set(
      await createMany(1000, {
        approvers: ['lead@example.com'],
        notify: [],
        timeout: '3s',
        callback: { type: 'webhook', url: receiver.url },
      }),
    );
    // Delivery is at least once: an answer that comes back after SIGNOFF_HTTP_TIMEOUT on a
    // loaded machine is sent again, under the same webhook-id. What must hold is one event
    // per approval, never two expiries of one.
    const eventIds = () => new Set(delivered('approval.decided', ids).map((r) => r.headers['webhook-id']));
    await eventually(() => expect(eventIds().size).toBeGreaterThanOrEqual(1000), 90_000);
    const events = delivered('approval.decided', ids);
    expect(eventIds().size).toBe(1000);
    expect(new Set(events.map((r) => JSON.parse(r.body).data.id)).size).toBe(1000);
    expect(events.every((r) => JSON.parse(r.body).data.status === 'expired')).toBe(true);
    const audits = await sql<{ n: number }>`
      select count(*)::int as n from audit_events where type = 'approval.expired' and approval_id like 'apr_%'`.execute(
      db,
    );
    expect(audits.rows[0]?.n).toBe(1000);
  });

  it('loses no callback when one instance is killed mid-dispatch', async () => {
    receiver.respond(() => ({ status: 200, delayMs: 40 }));
    const ids = new Set(
      await createMany(1000, {
        approvers: ['lead@example.com'],
        notify: [],
        callback: { type: 'webhook', url: receiver.url },
      }),
    );
    await eventually(
      () => expect(delivered('approval.created', ids).length).toBeGreaterThanOrEqual(100),
      60_000,
    );
    const victim = servers[0];
    if (!victim) throw new Error('no instance to kill');
    await stopProcess(victim.child, 'SIGKILL');
    await eventually(
      () =>
        expect(new Set(delivered('approval.created', ids).map((r) => r.headers['webhook-id'])).size).toBe(
          1000,
        ),
      90_000,
    );
    receiver.respond(() => 200);
  });
});

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, runCli, sendGet, startServerProcess, stopProcess } from '../helpers/process.js';
import { eventually, startReceiver } from '../helpers/receiver.js';

const ADMIN = 'sk_crash_test_admin_key_0123456789';
let dir: string;
let database: TestDatabase;
let env: Record<string, string>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-crash-'));
  database = await createTestDatabase(dir);
  receiver = await startReceiver();
  env = {
    ...database.env,
    SIGNOFF_PORT: String(await freePort()),
    SIGNOFF_ADMIN_KEY: ADMIN,
    SIGNOFF_HTTP_TIMEOUT: '1s',
    SIGNOFF_POLL_INTERVAL: '0.1s',
    SIGNOFF_RETRY_BASE: '0.1s',
    SIGNOFF_LOG_LEVEL: 'warn',
  };
});
afterAll(async () => {
  if (child) await stopProcess(child, 'SIGKILL');
  await receiver.stop();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

function decidedEvents() {
  return receiver.received.filter((r) => JSON.parse(r.body).type === 'approval.decided');
}

it('delivers a callback committed before a SIGKILL once signoff is back', async () => {
  // The receiver holds the decided event open, so the process dies mid-delivery.
  receiver.respond((r) => (JSON.parse(r.body).type === 'approval.decided' ? 'hang' : 200));
  const server = await startServerProcess(env);
  child = server.child;
  const key = await runCli(
    ['keys', 'create', '--permission', 'approvals:decide', '--actor', 'lead@example.com'],
    env,
  );
  expect(key.code).toBe(0);
  const token = key.stdout.trim();

  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const created = await fetch(`${server.url}/v1/approvals`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      title: 'Crash test',
      approvers: ['lead@example.com'],
      notify: [],
      callback: { type: 'webhook', url: receiver.url },
    }),
  });
  const approval = (await created.json()) as { id: string };
  const decided = await fetch(`${server.url}/v1/approvals/${approval.id}/decisions`, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}` },
    body: JSON.stringify({ verdict: 'approve' }),
  });
  expect(decided.status).toBe(201);
  // Each attempt hangs until SIGNOFF_HTTP_TIMEOUT and is tried again: there may be more than one.
  await eventually(() => expect(decidedEvents().length).toBeGreaterThanOrEqual(1));
  await stopProcess(server.child, 'SIGKILL');
  expect(decidedEvents().filter((r) => r.status === 200)).toHaveLength(0);

  receiver.respond(() => 200);
  const restarted = await startServerProcess(env);
  child = restarted.child;
  // The killed process's lease on the message runs out first (3 × SIGNOFF_HTTP_TIMEOUT + 1 s).
  await eventually(() => expect(decidedEvents().filter((r) => r.status === 200)).toHaveLength(1));
  const ids = new Set(decidedEvents().map((r) => r.headers['webhook-id']));
  expect(ids.size).toBe(1);
  const body = JSON.parse(decidedEvents().find((r) => r.status === 200)?.body ?? '{}');
  expect(body.data).toMatchObject({ id: approval.id, status: 'approved' });
  await stopProcess(restarted.child, 'SIGTERM');
  expect(restarted.child.exitCode).toBe(0);
  child = undefined;
});

it('shuts down on SIGTERM without hanging on long-poll waiters', async () => {
  const server = await startServerProcess({ ...env, SIGNOFF_PORT: String(await freePort()) });
  child = server.child;
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const created = await fetch(`${server.url}/v1/approvals`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ title: 'Shutdown test', approvers: ['lead@example.com'], notify: [] }),
  });
  const { id } = (await created.json()) as { id: string };
  const { answer } = await sendGet(`${server.url}/v1/approvals/${id}/wait?timeout=60s`, headers);
  // The server reads requests in the order they arrive, and on SQLite the long poll reaches
  // its wait without giving way to other input: once a later request is answered, it waits.
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  const stopping = stopProcess(server.child, 'SIGTERM');
  const waited = await answer;
  expect(waited.status).toBe(200);
  expect((JSON.parse(waited.body) as { status: string }).status).toBe('pending');
  await stopping;
  expect(server.child.exitCode).toBe(0);
  child = undefined;
});

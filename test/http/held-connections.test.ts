import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWebSession } from '../../src/sessions/web-sessions.js';
import { startWebHarness, type WebHarness } from '../helpers/browser.js';
import { BACKEND } from '../helpers/database.js';
import { approvalBody } from '../helpers/harness.js';
import { PATIENCE_MS } from '../helpers/receiver.js';

let h: WebHarness;
beforeAll(async () => {
  h = await startWebHarness();
});
afterAll(async () => h?.close());

async function create(): Promise<string> {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ approvers: ['lead@example.com'], notify: [] }),
  });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

/** Counts the change subscriptions made for `id`, and those still open. */
function trackSubscriptions(id: string) {
  const changes = h.signoff.services.changes;
  const subscribe = changes.subscribe.bind(changes);
  const counts = { made: 0, open: 0 };
  const spy = vi.spyOn(changes, 'subscribe').mockImplementation((approvalId, listener) => {
    const stop = subscribe(approvalId, listener);
    if (approvalId !== id) return stop;
    counts.made++;
    counts.open++;
    let stopped = false;
    return () => {
      if (!stopped) counts.open--;
      stopped = true;
      stop();
    };
  });
  return { counts, restore: () => spy.mockRestore() };
}

/**
 * Keeps signoff's queries waiting until the returned function is called: SQLite's one
 * connection is held by a transaction; on PostgreSQL the tables a request reads first are locked.
 */
async function holdDatabase(): Promise<() => Promise<void>> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = () => {};
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  const done = h.signoff.services.db.transaction().execute(async (trx) => {
    if (BACKEND === 'postgres')
      await sql`lock table approvals, api_keys, web_sessions in access exclusive mode`.execute(trx);
    holding();
    await released;
  });
  await Promise.race([held, done]);
  return async () => {
    release();
    await done;
  };
}

/**
 * Sends a GET on a connection of its own and, once signoff has the request, closes that
 * connection; resolves when signoff has seen it close.
 */
async function sendAndLeave(path: string, headers: Record<string, string>): Promise<void> {
  const server = h.signoff.app.server;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const received = new Promise<void>((resolve) => server.once('request', () => resolve()));
  const client = connect(Number(new URL(h.url).port), '127.0.0.1');
  client.on('error', () => {});
  const serverSide = await accepted;
  const closed = new Promise<void>((resolve) => serverSide.once('close', () => resolve()));
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  client.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('')}\r\n`);
  await received;
  client.destroy();
  await closed;
}

describe('a client that leaves before signoff holds its request', () => {
  it('leaves no page stream behind', async () => {
    const id = await create();
    const session = await startWebSession(h.signoff.services, {
      actor: 'lead@example.com',
      groups: [],
      grants: [],
    });
    const tracked = trackSubscriptions(id);
    try {
      const release = await holdDatabase();
      try {
        await sendAndLeave(`/approvals/${id}/events`, { cookie: `signoff=${session}` });
      } finally {
        await release();
      }
      await vi.waitFor(() => expect(tracked.counts.made).toBe(1), { timeout: PATIENCE_MS, interval: 10 });
      // No close will come for a connection already closed: a stream left open would stay forever.
      expect(tracked.counts.open).toBe(0);
    } finally {
      tracked.restore();
    }
  });

  it('leaves no long poll waiting out its time', async () => {
    const id = await create();
    const tracked = trackSubscriptions(id);
    try {
      const release = await holdDatabase();
      try {
        await sendAndLeave(`/v1/approvals/${id}/wait?timeout=60s`, { authorization: `Bearer ${h.adminKey}` });
      } finally {
        await release();
      }
      await vi.waitFor(() => expect(tracked.counts.made).toBe(1), { timeout: PATIENCE_MS, interval: 10 });
      // Held for a client that is gone, it would let go only after its 60 s.
      await vi.waitFor(() => expect(tracked.counts.open).toBe(0), { timeout: PATIENCE_MS, interval: 10 });
    } finally {
      tracked.restore();
    }
  });
});

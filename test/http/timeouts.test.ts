import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startWebSession } from '../../src/sessions/web-sessions.js';
import { ADMIN_KEY, approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { PATIENCE_MS } from '../helpers/receiver.js';

// Short bounds, so a connection the server should cut is cut within a test's patience.
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
// Far more than the bounds above, far less than a connection left open by the old defaults
// (a silent connection was cut after 90 s, an idle kept-alive one after 72 s, a slow body never).
const CUT_WITHIN_MS = 20_000;
const TEST_TIMEOUT_MS = 45_000;

let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness(
    {
      SIGNOFF_HTTP_HEADERS_TIMEOUT: `${HEADERS_TIMEOUT_MS / 1000}s`,
      SIGNOFF_HTTP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS / 1000}s`,
      SIGNOFF_HTTP_KEEP_ALIVE_TIMEOUT: `${KEEP_ALIVE_TIMEOUT_MS / 1000}s`,
    },
    { workers: false },
  );
  await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.signoff.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await h?.close();
});

/** A raw TCP connection to signoff: what it received, and when it was closed. */
interface Connection {
  readonly socket: Socket;
  received(): string;
  /** Resolves, once the connection is closed, with the milliseconds since `since` (the open, by default). */
  closed: Promise<number>;
  isClosed(): boolean;
  /** Resolves once the text received so far contains `text`. */
  receive(text: string): Promise<void>;
}

async function open(): Promise<Connection> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const openedAt = Date.now();
  let text = '';
  let closed = false;
  const waiters: { text: string; resolve: () => void }[] = [];
  // A server that cuts a connection while the client still writes may reset it: that is a close too.
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    text += chunk.toString('utf8');
    for (const waiter of waiters.filter((w) => text.includes(w.text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const closedPromise = new Promise<number>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve(Date.now() - openedAt);
    }),
  );
  return {
    socket,
    received: () => text,
    closed: closedPromise,
    isClosed: () => closed,
    receive: (wanted) =>
      text.includes(wanted)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ text: wanted, resolve });
            void closedPromise.then(() =>
              reject(new Error(`closed before "${wanted}" arrived; received: ${text}`)),
            );
          }),
  };
}

/** Starts a POST whose body never finishes arriving: one byte now and then. */
async function slowBody(): Promise<Connection> {
  const connection = await open();
  connection.socket.write(
    [
      'POST /v1/approvals HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${ADMIN_KEY}`,
      'Content-Type: application/json',
      'Content-Length: 1000',
      '',
      '{',
    ].join('\r\n'),
  );
  const drip = setInterval(() => {
    if (!connection.socket.destroyed) connection.socket.write(' ');
  }, 200);
  void connection.closed.then(() => clearInterval(drip));
  return connection;
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1]);
}

function bodyOf(response: string): unknown {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
}

describe('receiving a request is bounded', () => {
  it(
    'cuts a request whose body trickles in, answering 408 request_timeout',
    async () => {
      const before = (await h.api({ method: 'GET', url: '/v1/approvals' })).json().items.length;
      const slow = await slowBody();
      const elapsed = await slow.closed;
      expect(elapsed).toBeLessThan(CUT_WITHIN_MS);
      // The answer may be lost to a reset when the client writes after the cut; the close is not.
      if (slow.received()) {
        expect(statusOf(slow.received())).toBe(408);
        expect(bodyOf(slow.received())).toMatchObject({ error: { code: 'request_timeout' } });
      }
      expect((await h.api({ method: 'GET', url: '/v1/approvals' })).json().items).toHaveLength(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'cuts a connection that sends nothing at all, answering 408 request_timeout',
    async () => {
      const silent = await open();
      expect(await silent.closed).toBeLessThan(CUT_WITHIN_MS);
      expect(statusOf(silent.received())).toBe(408);
      expect(bodyOf(silent.received())).toMatchObject({
        error: { code: 'request_timeout', requestId: expect.stringMatching(/^req_/) },
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'closes a kept-alive connection that stays idle after its answer',
    async () => {
      const idle = await open();
      idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await idle.receive('\r\n\r\n');
      expect(statusOf(idle.received())).toBe(200);
      expect(idle.received().toLowerCase()).toContain('connection: keep-alive');
      expect(await idle.closed).toBeLessThan(CUT_WITHIN_MS);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the settings', () => {
  it('default to bounds, never to none, and keep the headers within the request', () => {
    expect(loadConfig({}).httpServerTimeouts).toEqual({
      headersMs: 20_000,
      requestMs: 30_000,
      keepAliveMs: 72_000,
    });
    expect(loadConfig({ SIGNOFF_HTTP_REQUEST_TIMEOUT: '5s' }).httpServerTimeouts.headersMs).toBe(5_000);
    for (const name of [
      'SIGNOFF_HTTP_HEADERS_TIMEOUT',
      'SIGNOFF_HTTP_REQUEST_TIMEOUT',
      'SIGNOFF_HTTP_KEEP_ALIVE_TIMEOUT',
    ])
      expect(() => loadConfig({ [name]: '0' }), name).toThrow(name);
  });
});

describe('what is not HTTP', () => {
  it('is answered in the shape of every other error, and closed', async () => {
    const garbage = await open();
    garbage.socket.write('HELLO THERE\r\n\r\n');
    await garbage.closed;
    expect(statusOf(garbage.received())).toBe(400);
    expect(bodyOf(garbage.received())).toMatchObject({ error: { code: 'invalid_input' } });
  });
});

describe('long answers are not cut', () => {
  /** Resolves once every bound has passed for a request that arrived before this is called. */
  async function everyBoundPasses() {
    const [slow, silent] = await Promise.all([slowBody(), open()]);
    await Promise.all([slow.closed, silent.closed]);
  }

  it(
    'answers a long poll that waits longer than every bound',
    async () => {
      const created = (await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() })).json();
      const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
      const subscribe = vi.spyOn(h.signoff.services.changes, 'subscribe');
      const poll = await open();
      try {
        poll.socket.write(
          [
            `GET /v1/approvals/${created.id}/wait?timeout=60s HTTP/1.1`,
            'Host: 127.0.0.1',
            `Authorization: Bearer ${ADMIN_KEY}`,
            'Connection: close',
            '',
            '',
          ].join('\r\n'),
        );
        await vi.waitFor(() => expect(subscribe).toHaveBeenCalledWith(created.id, expect.any(Function)), {
          timeout: PATIENCE_MS,
          interval: 10,
        });
      } finally {
        subscribe.mockRestore();
      }
      await everyBoundPasses();
      expect(poll.isClosed()).toBe(false);
      const decided = await h.api({
        method: 'POST',
        url: `/v1/approvals/${created.id}/decisions`,
        payload: { verdict: 'approve' },
        token: lead,
      });
      expect(decided.statusCode).toBe(201);
      await poll.closed;
      expect(statusOf(poll.received())).toBe(200);
      expect(bodyOf(poll.received())).toMatchObject({ id: created.id, status: 'approved' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "keeps a web page's event stream open longer than every bound",
    async () => {
      const created = (await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() })).json();
      const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
      const session = await startWebSession(h.signoff.services, {
        actor: 'lead@example.com',
        groups: [],
        grants: [],
      });
      const events = await open();
      events.socket.write(
        [
          `GET /approvals/${created.id}/events HTTP/1.1`,
          'Host: 127.0.0.1',
          `Cookie: signoff=${session}`,
          '',
          '',
        ].join('\r\n'),
      );
      await events.receive('retry: 3000');
      expect(statusOf(events.received())).toBe(200);
      await everyBoundPasses();
      expect(events.isClosed()).toBe(false);
      await h.api({
        method: 'POST',
        url: `/v1/approvals/${created.id}/decisions`,
        payload: { verdict: 'approve' },
        token: lead,
      });
      await events.receive('event: change');
      events.socket.destroy();
    },
    TEST_TIMEOUT_MS,
  );
});

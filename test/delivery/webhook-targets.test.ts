import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ResolveHost, resolveWithSystem } from '../../src/egress/pinned-request.js';
import { isLoopback, watchConnections } from '../helpers/connections.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { startReceiver } from '../helpers/receiver.js';

/**
 * Answers host names from a table instead of DNS, so no test asks a name server anything;
 * a list of answers is given out one per question (a name that rebinds). `localhost` goes to
 * the system resolver, which answers it from /etc/hosts.
 */
function fakeDns(table: Record<string, string[] | string[][]>) {
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    if (host === 'localhost') return resolveWithSystem(host);
    const entry = table[host];
    if (!entry) throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
    const answers = Array.isArray(entry[0]) ? (entry as string[][]) : [entry as string[]];
    const answer = answers.length > 1 ? (answers.shift() as string[]) : (answers[0] as string[]);
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const);
  };
  return { resolve, asked };
}

const dns = fakeDns({
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['10.1.2.3', '127.0.0.1'],
  'ci.test': ['10.1.2.3'],
  'other.test': ['10.1.2.4'],
  'a.builds.test': ['10.9.9.9'],
  'builds.test': ['10.9.9.9'],
  'loop.test': ['127.0.0.2'],
  'v6.test': ['fd00::5'],
  'cgnat.test': ['100.64.0.7'],
  'hooks.example.com': ['203.0.113.10'],
});

const watch = watchConnections();
afterAll(() => watch.stop());
beforeEach(() => watch.clear());

function create(h: Harness, url: string) {
  return h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ notify: [], callback: { type: 'webhook', url } }),
  });
}

describe('webhook targets with the default policy (SIGNOFF_WEBHOOK_ALLOW unset)', () => {
  let h: Harness;
  // No workers: nothing this suite creates is ever delivered, so no target is ever contacted.
  beforeAll(async () => {
    h = await startHarness({ SIGNOFF_WEBHOOK_ALLOW: '' }, { workers: false, resolveHost: dns.resolve });
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://127.8.9.10/hook',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'https://169.254.169.254/',
    'http://169.254.170.2/v2/credentials',
    'http://0.0.0.0:9/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://[::1]:9/hook',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://localhost:9/hook',
    'http://LOCALHOST./hook',
    'http://metadata.test/computeMetadata/v1/',
    'http://mixed.test/hook',
    // Private networks: refused unless SIGNOFF_WEBHOOK_ALLOW lists them.
    'http://10.1.2.3:8080/hook',
    'http://172.16.0.9/hook',
    'http://192.168.1.10/hook',
    'http://100.64.0.7/hook',
    'https://ci.test/hooks/signoff',
    'http://cgnat.test/hook',
    'http://[fd00::5]/hook',
    'http://[fc00::5]/hook',
    'http://v6.test/hook',
    'http://[::ffff:10.1.2.3]/hook',
    'http://[::ffff:c0a8:10a]/hook',
  ])('refuses %s at create, before any connection', async (url) => {
    const res = await create(h, url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('callback_not_allowed');
    expect(watch.requests).toEqual([]);
    expect(watch.attempts).toEqual([]);
  });

  it('answers invalid_input for a URL that does not parse', async () => {
    const res = await create(h, 'http://[not-an-address/hook');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
  });

  it('stores nothing for a refused request', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({
        title: 'refused-target',
        callback: { type: 'webhook', url: 'http://169.254.169.254/' },
      }),
    });
    expect(res.statusCode).toBe(400);
    const list = (await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json();
    expect(list.items.map((a: { title: string }) => a.title)).not.toContain('refused-target');
  });

  it('tells the client which setting opens a private network', async () => {
    const res = await create(h, 'https://ci.test/hooks/signoff');
    expect(res.json().error.code).toBe('callback_not_allowed');
    expect(res.json().error.message).toContain('SIGNOFF_WEBHOOK_ALLOW');
  });

  it.each(['https://hooks.example.com/hook', 'http://203.0.113.9/hook', 'http://[2001:db8::1]/hook'])(
    'allows a public target such as %s',
    async (url) => {
      expect((await create(h, url)).statusCode).toBe(201);
    },
  );

  it('accepts a name that does not resolve now: each delivery resolves and checks it again', async () => {
    expect((await create(h, 'https://not-yet.test/hook')).statusCode).toBe(201);
  });
});

describe('SIGNOFF_WEBHOOK_ALLOW', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      {
        SIGNOFF_WEBHOOK_ALLOW: 'ci.test, *.builds.test, loop.test, 192.0.2.0/24, 127.0.0.1/32, 172.16.0.0/12',
      },
      { workers: false, resolveHost: dns.resolve },
    );
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([
    'https://ci.test/hook',
    'https://a.builds.test/hook',
    'http://192.0.2.7/hook',
    'http://127.0.0.1:9/hook',
    'http://172.20.1.2/hook',
    'http://[::ffff:172.20.1.2]/hook',
  ])('allows %s, which it lists (a listed range may include loopback or a private network)', async (url) => {
    expect((await create(h, url)).statusCode).toBe(201);
  });

  it.each([
    ['a private host it does not list', 'https://other.test/hook'],
    ['a listed name by its address', 'http://10.1.2.3/hook'],
    ['a private network it lists no range of', 'http://192.168.1.10/hook'],
    ['the parent of a *. entry', 'https://builds.test/hook'],
    ['a listed name that resolves into a refused range', 'http://loop.test/hook'],
    ['a refused range no listed range covers', 'http://169.254.169.254/'],
  ])('refuses %s', async (_what, url) => {
    const res = await create(h, url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('callback_not_allowed');
    expect(watch.requests).toEqual([]);
  });
});

describe('webhook delivery', () => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const rebinding = fakeDns({
    'hooks.test': ['127.0.0.1'],
    // Harmless when signoff checks it at create, the cloud's metadata service at delivery.
    'rebind.test': [['127.0.0.1'], ['169.254.169.254']],
  });
  beforeAll(async () => {
    receiver = await startReceiver();
    h = await startHarness({}, { workers: false, resolveHost: rebinding.resolve });
  });
  afterAll(async () => {
    await h.close();
    await receiver.stop();
  });
  afterEach(() => receiver.respond(() => 200));

  /** The webhook URL of the receiver under another host name. */
  function receiverAt(host: string) {
    return receiver.url.replace('127.0.0.1', host);
  }

  async function audit(id: string) {
    const res = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
    return res.json().items as { type: string; data: Record<string, unknown> }[];
  }

  async function outbox(id: string, status: string) {
    const res = await h.api({ method: 'GET', url: `/v1/outbox?status=${status}` });
    return (res.json().items as { approvalId: string; kind: string; lastError: string | null }[]).filter(
      (m) => m.approvalId === id && m.kind === 'webhook',
    );
  }

  it('connects to the address it checked and names the host in the Host header', async () => {
    const created = (await create(h, receiverAt('hooks.test'))).json();
    const before = receiver.received.length;
    rebinding.asked.length = 0;
    await h.signoff.dispatcher.runOnce();
    const [request] = (await receiver.waitFor(before + 1)).slice(before);
    expect(request?.headers.host).toBe(`hooks.test:${receiver.port}`);
    expect(JSON.parse(request?.body ?? '{}').data.id).toBe(created.id);
    // One answer per delivery, and the socket went where it said: Node never asked DNS itself.
    expect(rebinding.asked).toEqual(['hooks.test']);
    expect(watch.attempts.length).toBeGreaterThan(0);
    expect(watch.attempts.every(isLoopback)).toBe(true);
    const delivered = (await audit(created.id)).find((e) => e.type === 'callback.delivered');
    expect(Object.keys(delivered?.data ?? {}).sort()).toEqual(['attempts', 'messageId', 'target', 'type']);
  });

  it('refuses a name that rebinds to a refused address after create, for good and before connecting', async () => {
    const res = await create(h, receiverAt('rebind.test'));
    expect(res.statusCode).toBe(201);
    const id = res.json().id;
    watch.clear();
    await h.signoff.dispatcher.runOnce();
    expect(watch.requests).toEqual([]);
    expect(watch.attempts).toEqual([]);
    const [dead] = await outbox(id, 'dead');
    expect(dead?.lastError).toBeTruthy();
    const events = await audit(id);
    const event = events.find((e) => e.type === 'callback.dead_lettered');
    expect(event?.data).toMatchObject({ attempts: 1, retryInMs: null });
    expect(event?.data).not.toHaveProperty('error');
  });

  it('tells the audit trail that a delivery failed, not how; the admin outbox keeps the status', async () => {
    receiver.respond(() => 503);
    const id = (await create(h, receiver.url)).json().id;
    await h.signoff.dispatcher.runOnce();
    const failed = (await audit(id)).find((e) => e.type === 'callback.failed');
    expect(Object.keys(failed?.data ?? {}).sort()).toEqual(['attempts', 'messageId', 'retryInMs']);
    const [pending] = await outbox(id, 'pending');
    expect(pending?.lastError).toMatch(/\b503\b/);
  });

  it('hides why a connection failed from the audit trail', async () => {
    const id = (await create(h, 'http://127.0.0.1:1/closed')).json().id;
    await h.signoff.dispatcher.runOnce();
    const failed = (await audit(id)).find((e) => e.type === 'callback.failed');
    expect(failed?.data).not.toHaveProperty('error');
  });
});

describe('webhook delivery with SIGNOFF_WEBHOOK_ALLOW unset', () => {
  let h: Harness;
  // A public address when signoff checks it at create, a host on a private network at delivery.
  const moving = fakeDns({ 'moved.test': [['203.0.113.10'], ['10.0.0.8']] });
  beforeAll(async () => {
    h = await startHarness({ SIGNOFF_WEBHOOK_ALLOW: '' }, { workers: false, resolveHost: moving.resolve });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses a name that resolves to a private network at delivery, for good and before connecting', async () => {
    const res = await create(h, 'http://moved.test/hook');
    expect(res.statusCode).toBe(201);
    const id = res.json().id;
    watch.clear();
    await h.signoff.dispatcher.runOnce();
    expect(moving.asked).toEqual(['moved.test', 'moved.test']);
    expect(watch.requests).toEqual([]);
    expect(watch.attempts).toEqual([]);
    const dead = (await h.api({ method: 'GET', url: '/v1/outbox?status=dead' })).json().items as {
      approvalId: string;
      lastError: string | null;
    }[];
    expect(dead.find((m) => m.approvalId === id)?.lastError).toContain('SIGNOFF_WEBHOOK_ALLOW');
  });
});

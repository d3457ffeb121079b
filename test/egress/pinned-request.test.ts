import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SignoffError } from '../../src/core/errors.js';
import { type AllowList, parseAllowList } from '../../src/egress/address-policy.js';
import { createEgress } from '../../src/egress/egress.js';
import { type ResolveHost, sendPinned } from '../../src/egress/pinned-request.js';
import { createLogger } from '../../src/logger.js';
import { isLoopback, watchConnections } from '../helpers/connections.js';
import { startReceiver } from '../helpers/receiver.js';

function allowList(text: string): AllowList {
  const parsed = parseAllowList(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.list;
}

/** A resolver that gives out its answers one per question (the last one repeats) and never asks DNS. */
function answering(...answers: string[][]) {
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    const answer = (answers.length > 1 ? answers.shift() : answers[0]) ?? [];
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const);
  };
  return { resolve, asked };
}

/** The log as parsed JSON lines. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof SignoffError) return error.code;
    throw error;
  }
  throw new Error('expected a SignoffError');
}

const watch = watchConnections();
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  watch.stop();
  await receiver.stop();
});
beforeEach(() => {
  watch.clear();
  receiver.respond(() => 200);
});

const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };

describe('a refused target', () => {
  it.each([
    ['169.254.169.254 by address', undefined, 'http://169.254.169.254/latest/meta-data/', []],
    ['169.254.169.254 by name', undefined, 'http://metadata.internal/', ['169.254.169.254']],
    ['the mapped form of loopback', undefined, 'https://[::ffff:127.0.0.1]/', []],
    ['a 10.x address the allow list does not name', '127.0.0.1/32', 'http://10.0.0.8/hook', []],
    ['a name at 10.x that the allow list does not name', '127.0.0.1/32', 'http://ci.internal/', ['10.0.0.8']],
    // Private networks, with SIGNOFF_WEBHOOK_ALLOW unset.
    ['a 10.x address', undefined, 'http://10.0.0.8/hook', []],
    ['a name at 192.168.x', undefined, 'http://ci.internal/', ['192.168.1.10']],
    ['a name at a unique-local IPv6 address', undefined, 'http://ci6.internal/', ['fd12:3456::5']],
    ['a unique-local IPv6 address', undefined, 'http://[fc00::8]:8080/', []],
    ['the mapped form of 172.16.x', undefined, 'http://[::ffff:172.16.0.5]/', []],
    ['a carrier-grade NAT address by name', undefined, 'http://cgnat.internal/', ['100.64.0.1']],
    ['the NAT64 form of 10.x', undefined, 'http://[64:ff9b::a00:8]/', []],
  ])('%s is refused before any request or socket exists', async (_what, allow, url, addresses) => {
    const dns = answering(addresses);
    const egress = createEgress({
      allow: allow === undefined ? undefined : allowList(allow),
      resolve: dns.resolve,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    expect(await codeOf(egress.send(url, post))).toBe('callback_not_allowed');
    expect(await codeOf(egress.assertAllowed(url))).toBe('callback_not_allowed');
    expect(watch.requests).toEqual([]);
    expect(watch.attempts).toEqual([]);
  });

  it('tells the client which setting would open a private network', async () => {
    const egress = createEgress({
      allow: undefined,
      resolve: answering(['10.9.8.7']).resolve,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    const refusal = await egress.assertAllowed('http://ci.internal/').catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'callback_not_allowed' });
    expect((refusal as Error).message).toContain('SIGNOFF_WEBHOOK_ALLOW');
    // The caller learns the setting, not the address its name has.
    expect((refusal as Error).message).not.toContain('10.9.8.7');
  });

  it('is allowed once SIGNOFF_WEBHOOK_ALLOW lists its range', async () => {
    const egress = createEgress({
      allow: allowList('10.0.0.0/8'),
      resolve: answering(['10.0.0.8']).resolve,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    await expect(egress.assertAllowed('http://ci.internal/')).resolves.toBeUndefined();
    await expect(egress.assertAllowed('http://10.1.2.3/')).resolves.toBeUndefined();
    expect(watch.attempts).toEqual([]);
  });

  it('is refused when one of the addresses of its name is refused', async () => {
    const dns = answering(['10.0.0.8', '169.254.169.254']);
    const egress = createEgress({
      allow: undefined,
      resolve: dns.resolve,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    expect(await codeOf(egress.send('http://two-faced.internal/', post))).toBe('callback_not_allowed');
    expect(watch.requests).toEqual([]);
  });
});

describe('pinning', () => {
  it('resolves once and connects to the checked address, even if the name rebinds at once', async () => {
    // Checked at 127.0.0.1; any second question would hear the metadata service.
    const dns = answering(['127.0.0.1'], ['169.254.169.254']);
    const egress = createEgress({
      allow: allowList('127.0.0.1/32'),
      resolve: dns.resolve,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    const before = receiver.received.length;
    const { status } = await egress.send(`http://hooks.test:${receiver.port}/hook?x=1`, post);
    expect(status).toBe(200);
    const [request] = (await receiver.waitFor(before + 1)).slice(before);
    expect(request).toMatchObject({ url: '/hook?x=1', headers: { host: `hooks.test:${receiver.port}` } });
    expect(dns.asked).toEqual(['hooks.test']);
    expect(watch.requests).toEqual(['hooks.test']);
    expect(watch.attempts).toEqual(['127.0.0.1']);
    expect(watch.attempts.every(isLoopback)).toBe(true);
  });

  it('answers with the status and Retry-After, and reads no body', async () => {
    receiver.respond(() => ({ status: 503, headers: { 'retry-after': '30' } }));
    const egress = createEgress({
      allow: allowList('127.0.0.1/32'),
      resolve: answering([]).resolve,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    expect(await egress.send(receiver.url, post)).toEqual({ status: 503, retryAfter: '30' });
  });

  describe('over TLS', () => {
    let dir: string;
    let server: Server;
    let ca: string;
    const servernames: (string | false | null)[] = [];
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'signoff-egress-'));
      const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2'],
          ...['-subj', '/CN=hooks.test', '-addext', 'subjectAltName=DNS:hooks.test'],
        ],
        { stdio: 'ignore' },
      );
      ca = readFileSync(cert, 'utf8');
      server = createServer({ cert: ca, key: readFileSync(key, 'utf8') }, (req, res) => {
        servernames.push((req.socket as TLSSocket).servername);
        res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    });

    function port() {
      return (server.address() as AddressInfo).port;
    }

    it("sends the URL's host as SNI and checks the certificate against it, not against the address", async () => {
      const url = new URL(`https://hooks.test:${port()}/hook`);
      const signal = AbortSignal.timeout(2000);
      const { status } = await sendPinned(url, [{ address: '127.0.0.1', family: 4 }], {
        ...post,
        signal,
        ca,
      });
      expect(status).toBe(204);
      expect(servernames).toEqual(['hooks.test']);
    });

    it('refuses a certificate that does not name the host, although the address is the same', async () => {
      const url = new URL(`https://other.test:${port()}/hook`);
      const signal = AbortSignal.timeout(2000);
      const sent = sendPinned(url, [{ address: '127.0.0.1', family: 4 }], { ...post, signal, ca });
      await expect(sent).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    });
  });
});

describe('failures', () => {
  it('gives the kind of failure, and the details only to the log', async () => {
    const { logger, lines } = capturedLogger();
    const egress = createEgress({
      allow: allowList('127.0.0.1/32'),
      resolve: answering([]).resolve,
      timeoutMs: 2000,
      logger,
    });
    expect(await codeOf(egress.send('http://127.0.0.1:1/closed', post))).toBe('upstream_failed');
    expect(lines.at(-1)).toMatchObject({ target: 'http://127.0.0.1:1', err: { code: 'ECONNREFUSED' } });
  });

  it('times out on a receiver that never answers', async () => {
    receiver.respond(() => 'hang');
    const egress = createEgress({
      allow: allowList('127.0.0.1/32'),
      resolve: answering([]).resolve,
      timeoutMs: 200,
      logger: capturedLogger().logger,
    });
    expect(await codeOf(egress.send(receiver.url, post))).toBe('upstream_timeout');
  });

  it('times out on a name server that never answers', async () => {
    const egress = createEgress({
      allow: undefined,
      resolve: () => new Promise(() => {}),
      timeoutMs: 200,
      logger: capturedLogger().logger,
    });
    expect(await codeOf(egress.send('http://slow.internal/', post))).toBe('upstream_timeout');
    expect(watch.requests).toEqual([]);
  });

  it('retries a name that does not resolve, and lets it through at create', async () => {
    const gone: ResolveHost = async () => {
      throw Object.assign(new Error('no such host'), { code: 'ENOTFOUND' });
    };
    const egress = createEgress({
      allow: undefined,
      resolve: gone,
      timeoutMs: 2000,
      logger: capturedLogger().logger,
    });
    expect(await codeOf(egress.send('http://gone.internal/', post))).toBe('upstream_failed');
    await expect(egress.assertAllowed('http://gone.internal/')).resolves.toBeUndefined();
    expect(watch.requests).toEqual([]);
  });
});

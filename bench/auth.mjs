#!/usr/bin/env node
// The cost of authenticating a request with a JWT access token: one already verified and
// cached, against one seen for the first time. Usage: npm run bench:auth [-- --count 3000]
// A small issuer (discovery + JWKS) runs in this process; signoff runs as its own process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '16' } },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const BIN = new URL('../bin/signoff.js', import.meta.url).pathname;
const AUDIENCE = 'https://signoff.bench';

const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
const idp = createServer((req, res) => {
  const issuer = `http://127.0.0.1:${idp.address().port}`;
  const body = req.url === '/jwks' ? { keys: [jwk] } : { issuer, jwks_uri: `${issuer}/jwks` };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
await new Promise((resolve) => idp.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${idp.address().port}`;

function mint(i) {
  return new SignJWT({ scope: 'approvals:read', email: `user${i}@example.com` })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(AUDIENCE)
    .setSubject(`user${i}`)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function measure(tokenFor, url) {
  let next = 0;
  const latencies = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COUNT) {
        const token = tokenFor(next++);
        const t0 = performance.now();
        const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  return {
    rate: COUNT / seconds,
    p50: latencies[Math.floor(latencies.length / 2)],
    p95: latencies[Math.floor(latencies.length * 0.95)],
  };
}

const dir = mkdtempSync(join(tmpdir(), 'signoff-bench-auth-'));
const port = await freePort();
const child = spawn(process.execPath, [BIN, 'serve'], {
  env: {
    ...process.env,
    SIGNOFF_PORT: String(port),
    SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`,
    SIGNOFF_ADMIN_KEY: 'sk_bench_admin_key_0123456789abcdef',
    SIGNOFF_OIDC_ISSUER: issuer,
    SIGNOFF_OIDC_AUDIENCE: AUDIENCE,
    SIGNOFF_LOG_LEVEL: 'error',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `${base}/v1/approvals?limit=1`;
  process.stderr.write(`minting ${COUNT} tokens ...\n`);
  const fresh = await Promise.all(Array.from({ length: COUNT }, (_, i) => mint(i)));
  const same = await mint('cached');
  await measure(() => same, url); // warm up: JIT, connections, the JWKS fetch, the cache entry
  const cached = await measure(() => same, url);
  const uncached = await measure((i) => fresh[i], url);
  console.log(`\n${COUNT} requests, ${CONCURRENCY} in flight, GET /v1/approvals?limit=1`);
  console.log('token       req/s   p50 ms   p95 ms');
  for (const [name, r] of [
    ['cached', cached],
    ['uncached', uncached],
  ]) {
    console.log(
      `${name.padEnd(9)} ${r.rate.toFixed(0).padStart(7)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)}`,
    );
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  idp.close();
  rmSync(dir, { recursive: true, force: true });
}

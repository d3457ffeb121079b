#!/usr/bin/env node
// Create and decide throughput of one signoff process, on SQLite and on PostgreSQL, from
// the same script. Usage: npm run bench [-- --count 2000 --concurrency 16]
// The server runs as its own process (the real `signoff serve`); this process is the client.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    postgres: {
      type: 'string',
      default: process.env.SIGNOFF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const ADMIN = 'sk_bench_admin_key_0123456789abcdef';
const BIN = new URL('../bin/signoff.js', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startServer(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      ...env,
      SIGNOFF_PORT: String(port),
      SIGNOFF_ADMIN_KEY: ADMIN,
      SIGNOFF_LOG_LEVEL: 'error',
      SIGNOFF_LINK_RATE_LIMIT: '1000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('signoff did not start');
}

async function call(url, path, body, token = ADMIN) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Runs `task(i)` for i < COUNT with CONCURRENCY in flight; returns per-second rate and p95 latency. */
async function measure(task) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COUNT) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: COUNT / seconds, p95: latencies[Math.floor(latencies.length * 0.95)] ?? 0 };
}

async function bench(name, env) {
  const server = await startServer(env);
  try {
    // A key that decides: created through the CLI against the same database.
    const key = await new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [BIN, 'keys', 'create', '-p', 'approvals:decide', '-a', 'lead@example.com'],
        {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.on('close', (code) =>
        code === 0 ? resolve(out.trim()) : reject(new Error('keys create failed')),
      );
    });
    const ids = [];
    const create = await measure(async (i) => {
      const approval = await call(server.url, '/v1/approvals', {
        title: `bench ${i}`,
        approvers: ['lead@example.com'],
        notify: [],
      });
      ids[i] = approval.id;
    });
    const decide = await measure((i) =>
      call(server.url, `/v1/approvals/${ids[i]}/decisions`, { verdict: 'approve' }, key),
    );
    return { name, create, decide };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'signoff-bench-'));
const schema = `bench_${process.pid}`;
const results = [];
try {
  process.stderr.write(`benchmarking ${COUNT} creates and ${COUNT} decides, ${CONCURRENCY} in flight ...\n`);
  results.push(await bench('sqlite', { SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'bench.db')}` }));
  const probe = new pg.Client({ connectionString: values.postgres, connectionTimeoutMillis: 3000 });
  try {
    await probe.connect();
    results.push(
      await bench('postgres', { SIGNOFF_DATABASE_URL: values.postgres, SIGNOFF_DATABASE_SCHEMA: schema }),
    );
    await probe.query(`drop schema if exists ${schema} cascade`);
  } catch (error) {
    process.stderr.write(`PostgreSQL skipped: ${error.message}\n`);
  } finally {
    await probe.end().catch(() => {});
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('\nbackend    creates/s  create p95 ms  decides/s  decide p95 ms');
for (const r of results) {
  console.log(
    `${r.name.padEnd(9)} ${r.create.rate.toFixed(0).padStart(10)} ${r.create.p95.toFixed(1).padStart(14)} ${r.decide.rate.toFixed(0).padStart(10)} ${r.decide.p95.toFixed(1).padStart(14)}`,
  );
}

#!/usr/bin/env node
// signoff beside a bare Fastify process, measured in one run, on SQLite and on PostgreSQL.
// Usage: npm run bench. Environment: BENCH_SECONDS (per throughput figure, default 10),
// BENCH_APPROVALS (approvals stored for the growth figure, default 10000000),
// BENCH_BACKENDS (default sqlite,postgres),
// SIGNOFF_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test; unreachable: skipped).
// Both servers are real processes (`signoff serve`); this process is the client (autocannon).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { startInProcess, treesWritten, unitsPerSecond } from './in-process.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const STORED = Number(process.env.BENCH_APPROVALS ?? 10_000_000);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'sqlite,postgres').split(',').map((name) => name.trim());
const POSTGRES = process.env.SIGNOFF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = 16;
const WARM_UP_SECONDS = 2;
/** Units of work whose WAL pages are counted, to name the B-trees each writes. */
const TREE_COUNT = 100;
const ADMIN = 'sk_bench_admin_key_0123456789abcdef';
const APPROVER = 'lead@example.com';
const BIN = new URL('../bin/signoff.js', import.meta.url).pathname;
const BARE = new URL('./bare.mjs', import.meta.url).pathname;
const JSON_HEADERS = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const CREATE_BODY = JSON.stringify({ title: 'bench', approvers: [APPROVER], notify: [] });
const started = performance.now();
const log = (text) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${text}\n`);

function rssMb(pid) {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Math.round(Number(kb) / 1024) : Number.NaN;
}

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function stop(child) {
  child.kill('SIGTERM');
  return new Promise((r) => child.once('exit', r));
}

async function startBare() {
  const child = spawn(process.execPath, [BARE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
  return { child, url };
}

async function startSignoff(env, port) {
  // Started as `npm start` and the image start it: with V8's young generation bounded.
  const child = spawn(process.execPath, ['--max-semi-space-size=8', BIN, 'serve'], {
    env: {
      ...process.env,
      ...env,
      SIGNOFF_PORT: String(port),
      SIGNOFF_ADMIN_KEY: ADMIN,
      SIGNOFF_LOG_LEVEL: 'error',
      SIGNOFF_LINK_RATE_LIMIT: '1000000',
      SIGNOFF_WEBHOOK_ALLOW: '127.0.0.1/32',
      SIGNOFF_POLL_INTERVAL: '1s',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return { child, url };
}

/** Requests per second at full speed, 16 connections, after a short run that warms both sides up. */
async function throughput(options) {
  await autocannon({ connections: CONNECTIONS, duration: WARM_UP_SECONDS, ...options });
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options });
  if (result.non2xx > 0 || result.errors > 0)
    log(`  warning: ${result.non2xx} non-2xx answers, ${result.errors} errors at ${options.url}`);
  return result.requests.average;
}

/** p50/p99 latency at a fixed request rate. */
async function atRate(options, rate) {
  const result = await autocannon({
    connections: CONNECTIONS,
    duration: SECONDS,
    overallRate: rate,
    ...options,
  });
  return { p50: result.latency.p50, p99: result.latency.p99, achieved: result.requests.average };
}

/** Runs `work` one at a time `count` times; the median of the times it took, in ms. */
async function median(count, work) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await work(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Direct access to signoff's tables, to seed in bulk beside the running server. */
function openStore(backend) {
  if (backend.name === 'sqlite') {
    const db = new Sqlite(backend.file);
    db.pragma('busy_timeout = 10000');
    return {
      async query(text, params = []) {
        // PostgreSQL's numbered parameters, as SQLite's positional ones.
        const ordered = [];
        const statement = db.prepare(
          text.replace(/\$(\d+)/g, (_, n) => {
            ordered.push(params[Number(n) - 1]);
            return '?';
          }),
        );
        if (statement.reader) return statement.all(ordered);
        statement.run(ordered);
        return [];
      },
      series: (count) => `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count})`,
      from: 'n',
      async close() {
        db.close();
      },
    };
  }
  // Seeding commits history nobody needs to survive a crash: no need to wait for the WAL flush.
  const client = new pg.Client({
    connectionString: POSTGRES,
    options: `-c search_path=${backend.schema} -c synchronous_commit=off`,
  });
  const ready = client.connect();
  return {
    async query(text, params = []) {
      await ready;
      return (await client.query(text, params)).rows;
    },
    series: () => '',
    from: null,
    async close() {
      await client.end();
    },
  };
}

const APPROVAL_COLUMNS =
  'status, title, description, link, metadata, requester, policy, callback, notify, created_at, expires_at, decided_at, reason, version, progress, owner';

/**
 * Copies the template approval `count` times in one statement (decided history, with a spent
 * link each): what years of use leave behind. Ids sort before real ones.
 */
async function seedHistory(store, templateId, count, offset) {
  const series = store.from
    ? `${store.series(count)} select i from n`
    : `select i from generate_series(1, ${count}) as n(i)`;
  const idOf = store.from
    ? `'apr_0SEED' || printf('%020d', i + ${offset})`
    : `'apr_0SEED' || lpad((i + ${offset})::text, 20, '0')`;
  await store.query(
    `insert into approvals (id, ${APPROVAL_COLUMNS})
     select ${idOf}, 'approved', t.title, t.description, t.link, t.metadata, t.requester, t.policy, t.callback, t.notify,
       t.created_at, t.expires_at, t.created_at, t.reason, t.version, t.progress, t.owner
     from (${series}) as s, (select * from approvals where id = $1) as t`,
    [templateId],
  );
  await store.query(
    `insert into links (token_hash, approval_id, stage, approver, created_at, expires_at, used_at)
     select 'seed' || ${idOf}, ${idOf}, l.stage, l.approver, l.created_at, l.expires_at, l.created_at
     from (${series}) as s, (select * from links where approval_id = $1 limit 1) as l`,
    [templateId],
  );
}

/** Pending approvals with a usable link each, made by copying the template; returns their tokens. */
async function seedPending(store, templateId, count, tag) {
  // Shaped like real tokens (43 base64url characters), which is what the route accepts.
  const tokens = Array.from(
    { length: count },
    (_, i) => `bench${tag}${String(i).padStart(38 - tag.length, '0')}`,
  );
  const ids = tokens.map((_, i) => `apr_0${tag.toUpperCase()}${String(i).padStart(20, '0')}`);
  const hashes = tokens.map((t) => createHash('sha256').update(t).digest('hex'));
  const [template] = await store.query('select stage from links where approval_id = $1 limit 1', [
    templateId,
  ]);
  const chunk = 5000;
  for (let start = 0; start < count; start += chunk) {
    const part = ids.slice(start, start + chunk);
    const rows = part.map((_, j) => `($${j * 2 + 2}, $${j * 2 + 3})`).join(', ');
    const params = [templateId, ...part.flatMap((id, j) => [id, hashes[start + j]])];
    await store.query(
      `insert into approvals (id, ${APPROVAL_COLUMNS})
       with v(id, hash) as (values ${rows})
       select v.id, ${APPROVAL_COLUMNS.split(', ')
         .map((c) => `t.${c}`)
         .join(', ')}
       from v, (select * from approvals where id = $1) as t`,
      params,
    );
    await store.query(
      `insert into links (token_hash, approval_id, stage, approver, created_at, expires_at)
       with v(id, hash) as (values ${rows})
       select v.hash, v.id, $${params.length + 1}, '${APPROVER}', t.created_at, t.expires_at
       from v, (select * from approvals where id = $1) as t`,
      [...params, template.stage],
    );
  }
  return tokens;
}

async function createApproval(url, extra = {}) {
  const response = await fetch(`${url}/v1/approvals`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ title: 'bench', approvers: [APPROVER], notify: [], ...extra }),
  });
  if (response.status !== 201) throw new Error(`create: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** A template approval with a link row: created by `create` (the API, or in process), its link added beside it. */
async function createTemplate(create, store, extra = {}) {
  const approval = await create(extra);
  const stage = approval.policy?.stages?.[0]?.name ?? approval.stages?.[0]?.name ?? 'default';
  await store.query(
    'insert into links (token_hash, approval_id, stage, approver, created_at, expires_at) values ($1, $2, $3, $4, $5, $6)',
    [`template${approval.id}`, approval.id, stage, APPROVER, Date.now(), Date.now() + 3_600_000],
  );
  return approval.id;
}

/** One link decision; a keep-alive socket the server closed while idle is retried once. */
function decideByLink(url, token) {
  return postLink(url, token).catch((error) => {
    if (error instanceof TypeError && error.message === 'fetch failed') return postLink(url, token);
    throw error;
  });
}

function postLink(url, token) {
  return fetch(`${url}/d/${token}`, { method: 'POST', headers: FORM_HEADERS, body: 'verdict=approve' }).then(
    async (response) => {
      const body = await response.arrayBuffer();
      if (response.status !== 200)
        throw new Error(
          `decide by link: HTTP ${response.status} ${Buffer.from(body).toString().slice(0, 300)}`,
        );
    },
  );
}

function linkRequests(url, tokens) {
  let next = 0;
  return {
    url,
    method: 'POST',
    headers: FORM_HEADERS,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          path: `/d/${tokens[next++ % tokens.length]}`,
          body: 'verdict=approve',
        }),
      },
    ],
  };
}

/** Decision → webhook delivered: a receiver on loopback, one decision at a time. */
async function webhookLatency(url, store, count) {
  let arrived;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.end();
      arrived?.();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const callback = { type: 'webhook', url: `http://127.0.0.1:${receiver.address().port}/hook` };
  try {
    const template = await createTemplate((extra) => createApproval(url, extra), store, { callback });
    const tokens = await seedPending(store, template, count, 'hook');
    return await median(count, async (i) => {
      const delivered = new Promise((resolve) => {
        arrived = resolve;
      });
      await decideByLink(url, tokens[i]);
      await delivered;
    });
  } finally {
    receiver.close();
  }
}

/**
 * The same units of work as the HTTP figures, called in process on a database of their own
 * seeded alike; on SQLite also the B-trees one decision and one create write.
 */
async function inProcessLimits(backend) {
  log(`${backend.name}: in process, no HTTP, ${SECONDS}s each`);
  const signoff = await startInProcess(backend.env, ADMIN);
  const store = openStore(backend);
  const body = JSON.parse(CREATE_BODY);
  const limits = {};
  try {
    const template = await createTemplate((extra) => signoff.create({ ...body, ...extra }), store);
    await seedHistory(store, template, 1000, 0);
    const load = { seconds: SECONDS, warmUpSeconds: WARM_UP_SECONDS, connections: CONNECTIONS };
    limits.create = await unitsPerSecond(load, () => signoff.create(body));
    // Decisions outpace creates; four times what creates reached leaves room.
    const count = Math.max(20_000, Math.ceil(limits.create * (WARM_UP_SECONDS + SECONDS) * 4));
    const tokens = await seedPending(store, template, count + TREE_COUNT, 'proc');
    limits.link = await unitsPerSecond(load, (i) => signoff.decide(tokens[i]));
    if (backend.name === 'sqlite') {
      limits.decisionTrees = await treesWritten(
        backend.file,
        (i) => signoff.decide(tokens[count + i]),
        TREE_COUNT,
      );
      limits.createTrees = await treesWritten(backend.file, () => signoff.create(body), TREE_COUNT);
    }
  } finally {
    await store.close();
    await signoff.close();
  }
  return limits;
}

async function benchBackend(backend, port) {
  log(`${backend.name}: starting signoff`);
  const server = await startSignoff(backend.env, port);
  const store = openStore(backend);
  const figures = {};
  try {
    const template = await createTemplate((extra) => createApproval(server.url, extra), store);
    await seedHistory(store, template, 1000, 0);
    const getOptions = { url: `${server.url}/v1/approvals/${template}`, headers: JSON_HEADERS };
    const createOptions = {
      url: `${server.url}/v1/approvals`,
      method: 'POST',
      headers: JSON_HEADERS,
      body: CREATE_BODY,
    };
    log(`${backend.name}: throughput, ${SECONDS}s each`);
    figures.get = await throughput(getOptions);
    figures.create = await throughput(createOptions);
    const tokens = await seedPending(
      store,
      template,
      Math.max(20_000, Math.ceil(figures.create * (WARM_UP_SECONDS + SECONDS) * 3)),
      'rate',
    );
    figures.link = await throughput(linkRequests(server.url, tokens));
    // Memory right after full load, before the server has had time to give anything back.
    figures.rssAfterLoad = rssMb(server.child.pid);
    log(`${backend.name}: fixed rates`);
    figures.getAt = await atRate(getOptions, 1000);
    figures.createAt = await atRate(createOptions, 500);
    log(`${backend.name}: decision → webhook`);
    figures.webhookP50 = await webhookLatency(server.url, store, 50);
    const probes = await seedPending(store, template, 400, 'probe');
    figures.linkSmall = await median(200, (i) => decideByLink(server.url, probes[i]));
    log(`${backend.name}: seeding ${STORED.toLocaleString('en')} approvals with a link each`);
    const t0 = performance.now();
    // In slices, so the server's own writes (sweeper, dispatcher) get the SQLite lock in between.
    const batch = 100_000;
    for (let done = 0; done < STORED; done += batch) {
      await seedHistory(store, template, Math.min(batch, STORED - done), 1000 + done);
      const seeded = Math.min(done + batch, STORED);
      if (seeded % 1_000_000 === 0 || seeded === STORED)
        log(`  ${seeded.toLocaleString('en')} stored (${((performance.now() - t0) / 1000).toFixed(0)}s)`);
    }
    // Seeded means on disk: otherwise the figure at scale would time the flush of gigabytes
    // that a bulk load leaves behind (kernel writeback, PostgreSQL's checkpoints), not signoff.
    await store.query(backend.name === 'postgres' ? 'checkpoint' : 'pragma wal_checkpoint(TRUNCATE)');
    figures.seedSeconds = (performance.now() - t0) / 1000;
    // A database with years of history has been vacuumed: autovacuum working through ten
    // million fresh rows would compete with the decisions being timed.
    if (backend.name === 'postgres') await store.query('vacuum analyze');
    figures.linkLarge = await median(200, (i) => decideByLink(server.url, probes[200 + i]));
    // Full load once more with everything stored, and the memory right after it.
    figures.getLarge = await throughput(getOptions);
    figures.rss = rssMb(server.child.pid);
  } finally {
    await store.close();
    await stop(server.child);
  }
  return figures;
}

const pct = (value, base) => `${((100 * value) / base).toFixed(0)}%`;
const num = (value) => Math.round(value).toLocaleString('en');
const trees = (written) =>
  written ? `${written.trees.length} (${written.pages.toFixed(1)})` : 'not counted';

const dir = mkdtempSync(join(tmpdir(), 'signoff-bench-'));
const schema = `bench_${process.pid}`;
const results = [];
let bare;
/** Bare GET once more at the end: a machine that got busier or quieter meanwhile shows here. */
let bareGetAtEnd;
const bareGet = (url) => throughput({ url: `${url}/v1/approvals/apr_1`, headers: JSON_HEADERS });
try {
  log(`bare Fastify: throughput, ${SECONDS}s each`);
  const bareServer = await startBare();
  try {
    const u = bareServer.url;
    bare = {
      get: await bareGet(u),
      create: await throughput({
        url: `${u}/v1/approvals`,
        method: 'POST',
        headers: JSON_HEADERS,
        body: CREATE_BODY,
      }),
      link: await throughput({
        url: `${u}/d/token`,
        method: 'POST',
        headers: FORM_HEADERS,
        body: 'verdict=approve',
      }),
    };
  } finally {
    await stop(bareServer.child);
  }
  const port = 18_000 + (process.pid % 1000);
  const file = join(dir, 'bench.db');
  const processFile = join(dir, 'in-process.db');
  if (BACKENDS.includes('sqlite'))
    results.push([
      'SQLite',
      {
        ...(await benchBackend(
          { name: 'sqlite', file, env: { SIGNOFF_DATABASE_URL: `sqlite:${file}` } },
          port,
        )),
        inProcess: await inProcessLimits({
          name: 'sqlite',
          file: processFile,
          env: { SIGNOFF_DATABASE_URL: `sqlite:${processFile}` },
        }),
      },
    ]);
  if (BACKENDS.includes('postgres')) {
    const probe = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 3000 });
    try {
      await probe.connect();
      const env = { SIGNOFF_DATABASE_URL: POSTGRES, SIGNOFF_DATABASE_SCHEMA: schema };
      const inProcessEnv = {
        SIGNOFF_DATABASE_URL: POSTGRES,
        SIGNOFF_DATABASE_SCHEMA: `${schema}_in_process`,
      };
      results.push([
        'PostgreSQL',
        {
          ...(await benchBackend({ name: 'postgres', schema, env }, port + 1)),
          inProcess: await inProcessLimits({
            name: 'postgres',
            schema: `${schema}_in_process`,
            env: inProcessEnv,
          }),
        },
      ]);
    } catch (error) {
      log(`PostgreSQL skipped: ${error.message}`);
    } finally {
      await probe.query(`drop schema if exists ${schema}, ${schema}_in_process cascade`).catch(() => {});
      await probe.end().catch(() => {});
    }
  }
  log('bare Fastify: GET again');
  const bareAgain = await startBare();
  try {
    bareGetAtEnd = await bareGet(bareAgain.url);
  } finally {
    await stop(bareAgain.child);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const lines = [
  `signoff beside bare Fastify, ${CONNECTIONS} connections, ${SECONDS}s per figure; ${STORED.toLocaleString('en')} approvals stored for the growth figures`,
  '',
  `| figure | bare Fastify | ${results.map(([name]) => name).join(' | ')} |`,
  `|---|---|${results.map(() => '---|').join('')}`,
  `| GET one approval (API key), req/s | ${num(bare.get)} | ${results.map(([, f]) => `${num(f.get)} (${pct(f.get, bare.get)})`).join(' | ')} |`,
  `| create, no mail, req/s | ${num(bare.create)} | ${results.map(([, f]) => `${num(f.create)} (${pct(f.create, bare.create)})`).join(' | ')} |`,
  `| decide by link (POST /d/{token}), req/s | ${num(bare.link)} | ${results.map(([, f]) => `${num(f.link)} (${pct(f.link, bare.link)})`).join(' | ')} |`,
  `| create in process (no HTTP), units/s; HTTP's share | | ${results.map(([, f]) => `${num(f.inProcess.create)} (${pct(f.create, f.inProcess.create)})`).join(' | ')} |`,
  `| decide by link in process (no HTTP), units/s; HTTP's share | | ${results.map(([, f]) => `${num(f.inProcess.link)} (${pct(f.link, f.inProcess.link)})`).join(' | ')} |`,
  `| B-trees one link decision writes (WAL pages, mean) | | ${results.map(([, f]) => trees(f.inProcess.decisionTrees)).join(' | ')} |`,
  `| B-trees one create writes (WAL pages, mean) | | ${results.map(([, f]) => trees(f.inProcess.createTrees)).join(' | ')} |`,
  `| GET at 1,000/s: p50 / p99 ms | | ${results.map(([, f]) => `${f.getAt.p50} / ${f.getAt.p99} (${num(f.getAt.achieved)}/s)`).join(' | ')} |`,
  `| create at 500/s: p50 / p99 ms | | ${results.map(([, f]) => `${f.createAt.p50} / ${f.createAt.p99} (${num(f.createAt.achieved)}/s)`).join(' | ')} |`,
  `| decision → webhook delivered, p50 ms | | ${results.map(([, f]) => f.webhookP50.toFixed(2)).join(' | ')} |`,
  `| link decision p50 ms, ~1k stored | | ${results.map(([, f]) => f.linkSmall.toFixed(2)).join(' | ')} |`,
  `| link decision p50 ms, ${STORED.toLocaleString('en')} stored (ratio) | | ${results.map(([, f]) => `${f.linkLarge.toFixed(2)} (${(f.linkLarge / f.linkSmall).toFixed(2)}×)`).join(' | ')} |`,
  `| seeding ${STORED.toLocaleString('en')} approvals + links, s | | ${results.map(([, f]) => f.seedSeconds.toFixed(0)).join(' | ')} |`,
  `| GET one approval, ${STORED.toLocaleString('en')} stored, req/s | ${num(bare.get)} | ${results.map(([, f]) => `${num(f.getLarge)} (${pct(f.getLarge, bare.get)})`).join(' | ')} |`,
  `| RSS of signoff right after the throughput load, MB | | ${results.map(([, f]) => f.rssAfterLoad).join(' | ')} |`,
  `| RSS of signoff right after the GET load, ${STORED.toLocaleString('en')} stored, MB | | ${results.map(([, f]) => f.rss).join(' | ')} |`,
  '',
  `bare GET at the start ${num(bare.get)}/s, at the end ${num(bareGetAtEnd)}/s${
    Math.abs(bareGetAtEnd - bare.get) > 0.15 * bare.get
      ? ': more than 15% apart, so the machine was not equally quiet throughout and the ratios are off; run again on a quiet machine'
      : ''
  }`,
  ...results
    .filter(([, f]) => f.inProcess.decisionTrees)
    .flatMap(([name, f]) => [
      `${name}, trees a link decision writes: ${f.inProcess.decisionTrees.trees.join(', ')}`,
      `${name}, trees a create writes: ${f.inProcess.createTrees.trees.join(', ')}`,
    ]),
  `whole run: ${((performance.now() - started) / 1000).toFixed(0)} s`,
];
process.stdout.write(`${lines.join('\n')}\n`);

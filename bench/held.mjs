#!/usr/bin/env node
// One signoff instance holding what waiting pipelines and open pages hold: thousands of
// long-polls (`signoff wait`) and page streams (the web app's live updates) at once. Memory
// and descriptors must stay bounded, /healthz fast, and a decision must reach every waiter
// and every open page of its approval.
// Usage: npm run bench:held. Environment: BENCH_WAITERS (long-polls, default 5000),
// BENCH_STREAMS (page streams, default 1000), BENCH_HELD_APPROVALS (the approvals both are
// spread over, default 100), BENCH_HOLD_SECONDS (how long everything is held before the
// decisions, default 60), BENCH_BACKENDS (default sqlite,postgres),
// SIGNOFF_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test; unreachable: skipped).
// signoff is a real process (`signoff serve`); this process is every client.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';

const WAITERS = Number(process.env.BENCH_WAITERS ?? 5000);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const APPROVALS = Number(process.env.BENCH_HELD_APPROVALS ?? 100);
const HOLD_SECONDS = Number(process.env.BENCH_HOLD_SECONDS ?? 60);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'sqlite,postgres').split(',').map((name) => name.trim());
const POSTGRES = process.env.SIGNOFF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** What `signoff wait` asks for after its first call (src/cli/wait.ts). */
const POLL_SECONDS = 10;
/** Approvals decided one at a time, each while the others are held; the rest are decided at once. */
const ONE_AT_A_TIME = Math.min(10, APPROVALS);
/** A waiter or page that has not heard of its decision by then never will: the run fails. */
const HEARD_WITHIN_MS = 60_000;
const HEALTH_REQUESTS = 200;
const STALLED_MS = 60_000;
const IDLE_SECONDS = 10;
const ADMIN = 'sk_bench_admin_key_0123456789abcdef';
const BIN = new URL('../bin/signoff.js', import.meta.url).pathname;
const FORM = 'application/x-www-form-urlencoded';
// Each held connection is a descriptor here and one in signoff (which inherits the limit); a
// page's refresh after the decision opens one more on each side.
const NEEDED_FDS = WAITERS + 2 * STREAMS + 1024;
const started = performance.now();
/** Others' work on the machine moves every figure here: the run says how busy it was. */
const loadAtStart = loadavg()[0];
const log = (text) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${text}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The limit on open files of this process (Node raises its soft limit to the hard one at start). */
function fileLimit() {
  const soft = /Max open files\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '1024';
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

// Raising the hard limit takes privileges this bench should not have: it says so and stops.
if (fileLimit() < NEEDED_FDS) {
  log(
    `needs ${NEEDED_FDS} open files and may have ${fileLimit()}: raise the hard limit (ulimit -Hn, LimitNOFILE=)`,
  );
  process.exit(1);
}

function rssMb(pid) {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Math.round(Number(kb) / 1024) : Number.NaN;
}

const descriptors = (pid) => readdirSync(`/proc/${pid}/fd`).length;

/** CPU time the process has used, user and system, in seconds (the kernel counts 1/100 s). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN;
}

function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function inPool(items, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}

/** A token shaped like signoff's (43 base64url characters). */
const newToken = () => randomBytes(32).toString('base64url');
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The signoff being measured, so that an interrupted run does not leave it behind. */
let running;
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    running?.kill('SIGKILL');
    process.exit(130);
  });

async function startSignoff(env) {
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
  running = child;
  child.once('exit', (code, signal) => {
    if (!child.stopping) log(`signoff exited on its own (code ${code}, signal ${signal})`);
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, port };
    } catch {}
    await sleep(100);
  }
  throw new Error('signoff did not start');
}

function stop(child) {
  child.stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.kill('SIGTERM');
  return new Promise((resolve) => child.once('exit', resolve));
}

/** Direct access to signoff's tables, for the rows a mail would carry a token of. */
function openStore(backend) {
  if (backend.name === 'sqlite') {
    const db = new Sqlite(backend.file);
    db.pragma('busy_timeout = 10000');
    return {
      async insert(table, row) {
        const columns = Object.keys(row);
        db.prepare(
          `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        ).run(Object.values(row));
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: POSTGRES, options: `-c search_path=${backend.schema}` });
  const ready = client.connect();
  return {
    async insert(table, row) {
      await ready;
      const columns = Object.keys(row);
      await client.query(
        `insert into ${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    },
    async close() {
      await ready.catch(() => {});
      await client.end();
    },
  };
}

/** One HTTP exchange on node:http; resolves with the whole body and when it ended. */
function exchange(url, { method = 'GET', path, headers = {}, body, agent, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const request = httpRequest({ hostname, port, method, path, headers, agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
          at: performance.now(),
        }),
      );
      response.on('error', reject);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

const cookieOf = (headers, name) =>
  (headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith(`${name}=`));

const unescapeHtml = (text) =>
  text.replace(/&(#x?[0-9a-f]+|amp|quot|lt|gt);/gi, (_, entity) =>
    entity[0] === '#'
      ? String.fromCodePoint(Number(entity[1] === 'x' ? `0${entity.slice(1)}` : entity.slice(1)))
      : { amp: '&', quot: '"', lt: '<', gt: '>' }[entity.toLowerCase()],
  );

/**
 * The sign-in a mailed link starts: open the link's page, then press "Sign in" (a POST with
 * the page's CSRF token). Returns the session cookie.
 */
async function signIn(url, token) {
  const page = await exchange(url, { path: `/sign-in/${token}` });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (page.status !== 200 || !csrf) throw new Error(`sign-in page: HTTP ${page.status}`);
  const answer = await exchange(url, {
    method: 'POST',
    path: `/sign-in/${token}`,
    headers: { 'content-type': FORM, cookie: cookieOf(page.headers, 'signoff-csrf') },
    body: `_csrf=${encodeURIComponent(unescapeHtml(csrf))}`,
  });
  const session = cookieOf(answer.headers, 'signoff');
  if (answer.status !== 303 || !session) throw new Error(`sign in: HTTP ${answer.status} ${answer.body}`);
  return session;
}

/**
 * One `signoff wait`: a first call that answers at once, then long-polls of POLL_SECONDS,
 * asked again whenever one answers "still pending", on its own keep-alive connection as a
 * CLI process has. A network error, a timeout or a 5xx is retried after the CLI's pause (2 s,
 * doubling up to 30 s).
 */
function startWaiter(url, approvalId, counts, shared) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const waiter = { heardAt: undefined, status: undefined, first: undefined };
  waiter.first = (async () => {
    for (let polls = 0, failures = 0; !shared.closing; ) {
      const seconds = polls === 0 ? 0 : POLL_SECONDS;
      let answer;
      try {
        answer = await exchange(url, {
          path: `/v1/approvals/${approvalId}/wait?timeout=${seconds}s`,
          headers: { authorization: `Bearer ${ADMIN}` },
          agent,
          timeoutMs: (seconds + 15) * 1000,
        });
      } catch {
        answer = undefined;
      }
      if (shared.closing) break;
      if (!answer || answer.status >= 500) {
        counts.errors++;
        failures++;
        await sleep(Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
        continue;
      }
      failures = 0;
      if (answer.status !== 200) throw new Error(`wait: HTTP ${answer.status} ${answer.body}`);
      const { status } = JSON.parse(answer.body);
      if (polls++ === 0) waiter.onFirst?.();
      else counts.repolls++;
      if (status !== 'pending') {
        waiter.heardAt = answer.at;
        waiter.status = status;
        waiter.onHeard?.();
        break;
      }
    }
    agent.destroy();
  })();
  // The first answer (or a refusal) lets the next waiter start.
  waiter.opened = new Promise((resolve, reject) => {
    waiter.onFirst = resolve;
    waiter.first.then(resolve, reject);
  });
  waiter.heard = new Promise((resolve) => {
    waiter.onHeard = resolve;
  });
  return waiter;
}

/**
 * An open approval page: its event stream, and the page fetched again after each `change`
 * event, as the page's script does, on the browser's own second connection.
 */
function openStream(url, approvalId, cookie, counts) {
  const { hostname, port } = new URL(url);
  const stream = { heardAt: undefined, refreshMs: undefined, request: undefined };
  const browser = new Agent({ keepAlive: true, maxSockets: 1 });
  stream.heard = new Promise((resolve) => {
    stream.onHeard = resolve;
  });
  stream.close = () => {
    stream.request?.destroy();
    browser.destroy();
  };
  const refresh = async () => {
    try {
      const page = await exchange(url, {
        path: `/approvals/${approvalId}`,
        headers: { cookie, accept: 'text/html' },
        agent: browser,
      });
      if (page.status !== 200) counts.refreshErrors++;
      else stream.refreshMs = page.at - stream.heardAt;
    } catch {
      counts.refreshErrors++;
    }
  };
  return new Promise((resolve, reject) => {
    stream.request = httpRequest(
      {
        hostname,
        port,
        path: `/approvals/${approvalId}/events`,
        headers: { cookie, accept: 'text/event-stream' },
        agent: false,
      },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`events: HTTP ${response.statusCode}`));
          response.resume();
          return;
        }
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (text) => {
          buffer += text;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (message.startsWith('retry:')) resolve(stream);
            else if (/^event: change$/m.test(message) && stream.heardAt === undefined) {
              stream.heardAt = performance.now();
              stream.onHeard();
              void refresh();
            }
            end = buffer.indexOf('\n\n');
          }
        });
        response.on('error', () => {});
      },
    );
    stream.request.on('error', (error) => {
      if (!stream.closing) counts.streamErrors++;
      reject(error);
    });
    stream.request.end();
  });
}

/** /healthz one request at a time, each on a new connection as a prober opens it. */
async function healthLatency(url, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const answer = await exchange(url, { path: '/healthz', agent: false });
    if (answer.status !== 200) throw new Error(`healthz: HTTP ${answer.status}`);
    times.push(answer.at - t0);
  }
  return spread(times);
}

async function createApproval(url, approvers) {
  const response = await fetch(`${url}/v1/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'held', approvers, required: 1, notify: [], timeout: '24h' }),
  });
  if (response.status !== 201) throw new Error(`create: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Decides by the approval's mailed link; resolves with when it was sent and when it answered. */
async function decideByLink(url, token) {
  const sentAt = performance.now();
  const answer = await exchange(url, {
    method: 'POST',
    path: `/d/${token}`,
    headers: { 'content-type': FORM, accept: 'application/json' },
    body: 'verdict=approve',
  });
  if (answer.status !== 200) throw new Error(`decide: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
  return { sentAt, answeredAt: answer.at };
}

/** Waits until every one of `parties` has heard, or the bound passes; the latencies of those that did. */
async function heardBy(parties, sentAt) {
  let timer;
  const bound = new Promise((resolve) => {
    timer = setTimeout(resolve, HEARD_WITHIN_MS);
  });
  await Promise.race([Promise.all(parties.map((p) => p.heard)), bound]);
  clearTimeout(timer);
  return parties.filter((p) => p.heardAt !== undefined).map((p) => p.heardAt - sentAt);
}

async function benchBackend(backend) {
  log(`${backend.name}: starting signoff`);
  const server = await startSignoff(backend.env);
  const { pid } = server.child;
  const store = openStore(backend);
  const counts = { repolls: 0, errors: 0, streamErrors: 0, refreshErrors: 0 };
  const shared = { closing: false };
  const figures = { counts };
  const waiters = [];
  const streams = [];
  try {
    const viewers = Math.ceil(STREAMS / APPROVALS);
    log(
      `${backend.name}: ${APPROVALS} approvals, ${viewers} approvers each, a decision link and sign-in links`,
    );
    const approvals = [];
    for (let i = 0; i < APPROVALS; i++) {
      const approvers = Array.from({ length: viewers }, (_, j) => `p${i}-${j}@example.com`);
      const approval = await createApproval(server.url, approvers);
      const token = newToken();
      const now = Date.now();
      await store.insert('links', {
        token_hash: sha256(token),
        approval_id: approval.id,
        stage: approval.stages?.[0]?.name ?? 'default',
        approver: approvers[0],
        created_at: now,
        expires_at: now + 3_600_000,
      });
      approvals.push({ id: approval.id, approvers, token });
    }
    // Each stream is one approver's open page of their approval, in a browser signed in by link.
    const pages = Array.from({ length: STREAMS }, (_, k) => {
      const approval = approvals[k % APPROVALS];
      return { approval, email: approval.approvers[Math.floor(k / APPROVALS)], token: newToken() };
    });
    for (const page of pages) {
      const now = Date.now();
      await store.insert('sign_in_links', {
        token_hash: sha256(page.token),
        email: page.email,
        created_at: now,
        expires_at: now + 3_600_000,
      });
    }
    log(`${backend.name}: signing in ${STREAMS} browsers`);
    await inPool(pages, 16, async (page) => {
      page.cookie = await signIn(server.url, page.token);
    });
    // What signoff spends holding nothing (its workers, checkpoints), to tell holding's cost from it.
    const idleFrom = cpuSeconds(pid);
    await sleep(IDLE_SECONDS * 1000);
    figures.cpuIdle = (cpuSeconds(pid) - idleFrom) / IDLE_SECONDS;
    figures.rssIdle = rssMb(pid);
    figures.fdsIdle = descriptors(pid);

    log(`${backend.name}: opening ${STREAMS} page streams`);
    await inPool(pages, 50, async (page, k) => {
      const stream = await openStream(server.url, page.approval.id, page.cookie, counts);
      stream.approval = page.approval;
      streams.push(stream);
      if ((k + 1) % 250 === 0) log(`  ${k + 1} streams open, signoff holds ${descriptors(pid)} descriptors`);
    });
    log(`${backend.name}: opening ${WAITERS} long-polls (${POLL_SECONDS}s each, asked again while pending)`);
    const rampStarted = performance.now();
    // An instance short of CPU answers the first call of new long polls ever later while it
    // serves those it holds: a minute without one is a finding, not something to wait out.
    let opened = 0;
    let stalled;
    const watchdog = new Promise((_, reject) => {
      let seen = { opened: 0, at: performance.now(), cpu: cpuSeconds(pid) };
      stalled = setInterval(() => {
        if (opened !== seen.opened) seen = { opened, at: performance.now(), cpu: cpuSeconds(pid) };
        else if (performance.now() - seen.at > STALLED_MS) {
          const share = (cpuSeconds(pid) - seen.cpu) / ((performance.now() - seen.at) / 1000);
          reject(
            new Error(
              `no long poll opened for ${STALLED_MS / 1000}s with ${opened} open and ${STREAMS} streams; signoff used ${(100 * share).toFixed(0)}% of a core meanwhile, the machine's load average is ${loadavg()[0].toFixed(1)}`,
            ),
          );
        }
      }, 1000);
    });
    try {
      await Promise.race([
        watchdog,
        inPool(
          Array.from({ length: WAITERS }, (_, n) => approvals[n % APPROVALS]),
          100,
          async (approval, n) => {
            const waiter = startWaiter(server.url, approval.id, counts, shared);
            waiter.approval = approval;
            waiters.push(waiter);
            await waiter.opened;
            opened++;
            if ((n + 1) % 1000 === 0)
              log(
                `  ${n + 1} long-polls open, signoff holds ${descriptors(pid)} descriptors, ${rssMb(pid)} MB`,
              );
          },
        ),
      ]);
    } finally {
      clearInterval(stalled);
    }
    figures.rampSeconds = (performance.now() - rampStarted) / 1000;

    log(`${backend.name}: holding all for ${HOLD_SECONDS}s; /healthz ${HEALTH_REQUESTS} times`);
    const holdStarted = performance.now();
    const rss = [rssMb(pid)];
    const fds = [descriptors(pid)];
    const repollsBefore = counts.repolls;
    const sampler = setInterval(() => {
      rss.push(rssMb(pid));
      fds.push(descriptors(pid));
    }, 1000);
    figures.health = await healthLatency(server.url, HEALTH_REQUESTS);
    // What holding costs when nothing else happens: the long polls asked again, the streams' keep-alives.
    const cpuFrom = { at: performance.now(), seconds: cpuSeconds(pid), repolls: counts.repolls };
    // Each long poll is asked again once a round of POLL_SECONDS: memory that grows from one
    // round to the next is memory each leaves behind.
    const rounds = [rss[0]];
    for (let s = POLL_SECONDS; s <= HOLD_SECONDS; s += POLL_SECONDS) {
      await sleep(Math.max(0, holdStarted + s * 1000 - performance.now()));
      rounds.push(rssMb(pid));
      log(
        `  ${s}s: ${rounds.at(-1)} MB, ${descriptors(pid)} descriptors, ${counts.repolls} long-polls asked again`,
      );
    }
    await sleep(Math.max(0, holdStarted + HOLD_SECONDS * 1000 - performance.now()));
    clearInterval(sampler);
    const cpuWindow = (performance.now() - cpuFrom.at) / 1000;
    figures.cpuShare = (cpuSeconds(pid) - cpuFrom.seconds) / cpuWindow;
    figures.cpuPerRepoll =
      ((figures.cpuShare - figures.cpuIdle) * cpuWindow) / (counts.repolls - cpuFrom.repolls);
    figures.rssHeld = { rounds, max: Math.max(...rss, ...rounds) };
    figures.fdsHeld = Math.max(...fds);
    figures.repollsPerSecond = (counts.repolls - repollsBefore) / HOLD_SECONDS;
    figures.stillOpen = waiters.filter((w) => w.heardAt === undefined).length;

    log(`${backend.name}: deciding ${ONE_AT_A_TIME} approvals one at a time`);
    const byApproval = (approval) => ({
      waiters: waiters.filter((w) => w.approval === approval),
      streams: streams.filter((s) => s.approval === approval),
    });
    const decided = {
      single: { waiters: [], streams: [], answers: [] },
      burst: { waiters: [], streams: [] },
    };
    let unheard = 0;
    const collect = async (into, approval, decision) => {
      const parties = byApproval(approval);
      const [w, s] = await Promise.all([
        heardBy(parties.waiters, decision.sentAt),
        heardBy(parties.streams, decision.sentAt),
      ]);
      into.waiters.push(...w);
      into.streams.push(...s);
      unheard += parties.waiters.length - w.length + parties.streams.length - s.length;
      const wrong = parties.waiters.filter((x) => x.status !== undefined && x.status !== 'approved');
      if (wrong.length) throw new Error(`${wrong.length} waiters heard ${wrong[0].status}, not approved`);
    };
    for (const approval of approvals.slice(0, ONE_AT_A_TIME)) {
      const decision = await decideByLink(server.url, approval.token);
      decided.single.answers.push(decision.answeredAt - decision.sentAt);
      await collect(decided.single, approval, decision);
    }
    const rest = approvals.slice(ONE_AT_A_TIME);
    log(`${backend.name}: deciding the other ${rest.length} at once`);
    await Promise.all(
      rest.map(async (approval) =>
        collect(decided.burst, approval, await decideByLink(server.url, approval.token)),
      ),
    );
    figures.decisionAnswer = spread(decided.single.answers);
    figures.single = { waiters: spread(decided.single.waiters), streams: spread(decided.single.streams) };
    figures.burst = { waiters: spread(decided.burst.waiters), streams: spread(decided.burst.streams) };
    figures.burstSize = rest.length;
    figures.unheard = unheard;
    // The pages fetched again after the event: give the last ones a moment to arrive.
    for (let i = 0; i < 100 && streams.some((s) => s.heardAt && s.refreshMs === undefined); i++)
      await sleep(100);
    figures.refresh = spread(streams.filter((s) => s.refreshMs !== undefined).map((s) => s.refreshMs));
    figures.rssAfter = rssMb(pid);
    figures.fdsAfterWaiters = descriptors(pid);

    log(`${backend.name}: closing the pages`);
    for (const stream of streams) {
      stream.closing = true;
      stream.close();
    }
    // signoff lets a descriptor go once it has seen the close; wait for that, within reason.
    for (let i = 0; i < 50 && descriptors(pid) > figures.fdsIdle + 10; i++) await sleep(100);
    figures.fdsClosed = descriptors(pid);
  } finally {
    shared.closing = true;
    for (const stream of streams) {
      stream.closing = true;
      stream.close();
    }
    await store.close();
    await stop(server.child);
  }
  return figures;
}

const num = (value) => Math.round(value).toLocaleString('en');
const ms = (value) => (value < 10 ? value.toFixed(1) : num(value));
const triple = (s) => `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`;

const dir = mkdtempSync(join(tmpdir(), 'signoff-bench-held-'));
const schema = `bench_held_${process.pid}`;
const results = [];
try {
  if (BACKENDS.includes('sqlite')) {
    const file = join(dir, 'held.db');
    results.push([
      'SQLite',
      await benchBackend({ name: 'sqlite', file, env: { SIGNOFF_DATABASE_URL: `sqlite:${file}` } }),
    ]);
  }
  if (BACKENDS.includes('postgres')) {
    const probe = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 3000 });
    const reachable = await probe.connect().then(
      () => true,
      (error) => log(`PostgreSQL skipped: ${error.message}`),
    );
    try {
      const env = { SIGNOFF_DATABASE_URL: POSTGRES, SIGNOFF_DATABASE_SCHEMA: schema };
      if (reachable) results.push(['PostgreSQL', await benchBackend({ name: 'postgres', schema, env })]);
    } finally {
      if (reachable) await probe.query(`drop schema if exists ${schema} cascade`).catch(() => {});
      await probe.end().catch(() => {});
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const row = (label, cell) => `| ${label} | ${results.map(([, f]) => cell(f)).join(' | ')} |`;
const perApproval = Math.round(WAITERS / APPROVALS);
const lines = [
  `${WAITERS.toLocaleString('en')} long-polls and ${STREAMS.toLocaleString('en')} page streams held by one signoff, over ${APPROVALS} approvals; held ${HOLD_SECONDS}s before the decisions`,
  '',
  `| figure | ${results.map(([name]) => name).join(' | ')} |`,
  `|---|${results.map(() => '---|').join('')}`,
  row('long-polls opened in, s', (f) => f.rampSeconds.toFixed(0)),
  row('RSS idle, MB', (f) => f.rssIdle),
  row(
    `RSS held, at each ${POLL_SECONDS}s of the hold (max), MB`,
    (f) => `${f.rssHeld.rounds.join(', ')} (${f.rssHeld.max})`,
  ),
  row('RSS after the decisions (pages still open), MB', (f) => f.rssAfter),
  row(
    'descriptors: idle / held (max) / waiters answered / pages closed',
    (f) => `${f.fdsIdle} / ${f.fdsHeld} / ${f.fdsAfterWaiters} / ${f.fdsClosed}`,
  ),
  row(
    `/healthz while held, p50 / p99 ms (${HEALTH_REQUESTS}, new connection each)`,
    (f) => `${ms(f.health.p50)} / ${ms(f.health.p99)}`,
  ),
  row('long-polls asked again while held, per s', (f) => num(f.repollsPerSecond)),
  row(
    'signoff CPU, % of one core: idle / held (per long-poll asked again, idle taken off, µs)',
    (f) =>
      `${(100 * f.cpuIdle).toFixed(0)}% / ${(100 * f.cpuShare).toFixed(0)}% (${f.cpuPerRepoll > 0 ? num(f.cpuPerRepoll * 1e6) : 'too few to tell'})`,
  ),
  row(
    'link decision answered, p50 / p99 ms',
    (f) => `${ms(f.decisionAnswer.p50)} / ${ms(f.decisionAnswer.p99)}`,
  ),
  row(
    `decision → waiter, ${ONE_AT_A_TIME} decided one at a time (×${perApproval}): p50 / p99 / max ms`,
    (f) => triple(f.single.waiters),
  ),
  row(`decision → waiter, the other ${APPROVALS - ONE_AT_A_TIME} at once: p50 / p99 / max ms`, (f) =>
    triple(f.burst.waiters),
  ),
  row('decision → page stream event, one at a time: p50 / p99 / max ms', (f) => triple(f.single.streams)),
  row('decision → page stream event, at once: p50 / p99 / max ms', (f) => triple(f.burst.streams)),
  row(
    'page fetched again after the event, p50 / p99 ms',
    (f) => `${ms(f.refresh.p50)} / ${ms(f.refresh.p99)}`,
  ),
  row(
    'errors: long-poll retried / stream / page fetch',
    (f) => `${f.counts.errors} / ${f.counts.streamErrors} / ${f.counts.refreshErrors}`,
  ),
  row(`never heard of their decision within ${HEARD_WITHIN_MS / 1000}s`, (f) => f.unheard),
  '',
  `${availableParallelism()} cores; load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
  `whole run: ${((performance.now() - started) / 1000).toFixed(0)} s`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const failed = results.filter(([, f]) => f.unheard > 0 || f.stillOpen !== WAITERS);
if (failed.length) {
  for (const [name, f] of failed)
    log(
      `${name}: ${f.unheard} never heard of their decision; ${WAITERS - f.stillOpen} long-polls ended before it`,
    );
  process.exit(1);
}

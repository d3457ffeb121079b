#!/usr/bin/env node
// The chaos run: a decision, once made, reaches the waiting workflow while instances are
// SIGKILLed and the database crashes. Usage:
//   npm run chaos                      two instances on a throwaway PostgreSQL cluster
//   npm run chaos -- --sqlite          one instance on SQLite
//   npm run chaos -- --postgres --sqlite   both, one after the other
//   options: --approvals N (1000), --kills N (20 per variant), --load-seconds N (80), --seed N,
//   --fail-rate F (0.1) and --hang-rate F (0.03): how often a webhook receiver answers 500 or hangs
// Everything listens on 127.0.0.1; the PostgreSQL cluster is the run's own (initdb into a
// temporary directory, removed at the end), never the machine's. Exits 1 when an invariant fails.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from './client.mjs';
import { createCluster } from './cluster.mjs';
import { drive } from './driver.mjs';
import { createInstance, runKillLoop } from './instances.mjs';
import { callbackTold, checkInvariants, openRows, readState, verifyAudit } from './invariants.mjs';
import { createBrowser, createMailbox } from './people.mjs';
import { drawPlans, FINAL, PEOPLE, seededRandom } from './plans.mjs';
import { startReceivers } from './receivers.mjs';
import { baseEnv, createApproverKey, createOutage, freePort, spread } from './setup.mjs';

const ADMIN = `sk_chaos_${randomBytes(16).toString('hex')}`;
const DRAIN_FOR_MS = 180_000;

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'boolean', default: false },
    sqlite: { type: 'boolean', default: false },
    approvals: { type: 'string', default: '1000' },
    kills: { type: 'string', default: '20' },
    'load-seconds': { type: 'string', default: '80' },
    seed: { type: 'string', default: String(Math.floor(Math.random() * 2 ** 31)) },
    'fail-rate': { type: 'string', default: '0.1' },
    'hang-rate': { type: 'string', default: '0.03' },
  },
});
const backends = [...(args.postgres || !args.sqlite ? ['postgres'] : []), ...(args.sqlite ? ['sqlite'] : [])];
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups = [];
/** The running variant's directory: kept when it fails (its logs), removed when it holds or is interrupted. */
let runDir;

async function runVariant(backend, seed) {
  const name = backend === 'postgres' ? 'pg' : 'sqlite';
  const log = (text) => process.stderr.write(`[${elapsed()}] ${name}: ${text}\n`);
  const approvals = Number(args.approvals);
  const minKills = Number(args.kills);
  const dir = mkdtempSync(join(tmpdir(), `signoff-chaos-${name}-run-`));
  runDir = dir;
  const logDir = mkdtempSync(join(dir, 'logs-'));
  const variantStarted = Date.now();
  const random = seededRandom(seed);
  const chaosRandom = seededRandom(seed ^ 0x5bd1e995);
  const tag = randomBytes(3).toString('hex');

  let cluster;
  let databaseUrl = `sqlite:${join(dir, 'signoff.db')}`;
  if (backend === 'postgres') {
    log('creating a throwaway PostgreSQL cluster (initdb)');
    cluster = await createCluster(await freePort());
    cleanups.push(() => cluster.remove());
    databaseUrl = cluster.url;
  }
  const env = {
    ...baseEnv(),
    SIGNOFF_DATABASE_URL: databaseUrl,
    SIGNOFF_ADMIN_KEY: ADMIN,
    SIGNOFF_LOG_LEVEL: 'warn',
    SIGNOFF_WEBHOOK_ALLOW: '127.0.0.1/32',
    // Hanging receivers are cut off after 2 s; retries come quickly enough to finish in the run.
    SIGNOFF_HTTP_TIMEOUT: '2s',
    SIGNOFF_RETRY_BASE: '0.2s',
    SIGNOFF_RETRY_MAX: '2s',
    SIGNOFF_POLL_INTERVAL: '0.2s',
    SIGNOFF_LINK_RATE_LIMIT: '100000',
    ...(backend === 'postgres' && { SIGNOFF_DATABASE_POOL_SIZE: '4' }),
  };
  log(`creating the approvers' API keys (signoff keys create --actor)`);
  // The first migrates the new database; the rest can then run side by side.
  const keys = new Map([[PEOPLE[0], await createApproverKey(env, PEOPLE[0])]]);
  await Promise.all(PEOPLE.slice(1).map(async (p) => keys.set(p, await createApproverKey(env, p))));

  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receivers = await startReceivers({
    count: 4,
    secret,
    failRate: Number(args['fail-rate']),
    hangRate: Number(args['hang-rate']),
    random: chaosRandom,
  });
  cleanups.push(() => receivers.close());
  const mailbox = createMailbox();
  const instances = [];
  for (let i = 0; i < (backend === 'postgres' ? 2 : 1); i++)
    instances.push(
      createInstance({
        name: `${name}-${i + 1}`,
        port: await freePort(),
        env,
        logDir,
        onMail: mailbox.deliver,
        log,
      }),
    );
  cleanups.push(() => Promise.all(instances.map((i) => i.halt())));
  log(`starting ${instances.length} instance(s)`);
  await Promise.all(instances.map((i) => i.start()));
  log(
    `${instances.length} instance(s) up, ${receivers.urls.length} webhook receivers; signing the approvers in on the web`,
  );

  const outage = createOutage();
  const trace = createWriteStream(join(logDir, 'driver.log'));
  const client = createClient({
    instances,
    outage,
    random: chaosRandom,
    trace: (line) => trace.write(`${line}\n`),
  });
  const browsers = new Map(PEOPLE.map((person) => [person, createBrowser(client, person)]));
  for (const browser of browsers.values()) await browser.signIn(mailbox);

  const plans = drawPlans(approvals, receivers.urls.length, random);
  const progress = { created: 0, decisions: 0, finished: 0, linksMailed: 0, mailLatencyMs: [] };
  const kills = () => instances.reduce((n, i) => n + i.kills, 0);
  const ticker = setInterval(
    () =>
      log(
        `created ${progress.created}/${approvals}, ${progress.decisions} decisions, ${progress.finished} done; ${kills()} kills; ${client.stats.sent} requests`,
      ),
    5000,
  );
  log(
    `driving ${approvals} approvals over ~${args['load-seconds']} s (seed ${seed}) while instances are killed`,
  );
  let driverDone = false;
  const driving = drive({
    plans,
    client,
    admin: ADMIN,
    keys,
    browsers,
    mailbox,
    receivers,
    secret,
    tag,
    loadMs: Number(args['load-seconds']) * 1000,
    concurrency: 48,
    instanceCount: instances.length,
    random: chaosRandom,
    progress,
  }).finally(() => {
    driverDone = true;
  });
  const killing = runKillLoop({
    instances,
    random: chaosRandom,
    minKills,
    progress: () => progress.finished / approvals,
    done: () => driverDone,
    log,
  });
  const crashing =
    cluster &&
    (async () => {
      const at = Math.floor(approvals * (0.3 + 0.2 * chaosRandom()));
      while (progress.created < at && !driverDone) await sleep(100);
      outage.begin();
      log(`PostgreSQL: immediate shutdown (a crash) at ${progress.created} approvals created`);
      await cluster.crash();
      await sleep(1000 + 2000 * chaosRandom());
      await cluster.start();
      outage.end();
      const window = outage.windows.at(-1);
      log(`PostgreSQL is back after ${((window.back - window.start) / 1000).toFixed(1)} s`);
    })();
  await Promise.all([driving, killing, crashing]);
  clearInterval(ticker);
  log(
    `driver done; ${kills()} kills; draining: waiting for every approval to end and its callback to be told`,
  );

  const rows = await openRows(databaseUrl);
  cleanups.push(() => rows.close());
  const created = plans.filter((p) => p.id);
  const drainUntil = Date.now() + DRAIN_FOR_MS;
  let lastNote = 0;
  for (;;) {
    const state = await readState(rows);
    const open = created.filter((p) => !FINAL.includes(state.approvals.get(p.id))).length;
    const untold = created.filter((p) => !callbackTold(receivers, p.id, state.approvals.get(p.id))).length;
    const pending = state.outbox.pending ?? 0;
    if ((open === 0 && untold === 0 && pending === 0) || Date.now() > drainUntil) break;
    if (Date.now() - lastNote > 5000) {
      lastNote = Date.now();
      log(
        `draining: ${open} approvals not ended, ${untold} callbacks not told, ${pending} outbox messages pending`,
      );
    }
    await sleep(500);
  }
  log('stopping the instances (SIGTERM); verifying every audit chain; checking the invariants');
  await Promise.all(instances.map((i) => i.stop()));
  trace.end();
  const audit = await verifyAudit(env);
  const results = await checkInvariants({
    plans,
    rows,
    receivers,
    client,
    instances,
    audit,
    mailbox,
  });
  await rows.close();
  await receivers.close();
  await cluster?.remove();
  cleanups.length = 0;
  const told = plans
    .filter((p) => p.endedAt)
    .flatMap((p) => receivers.delivered(p.id, 'approval.decided').map((e) => e.firstAt - p.endedAt));
  const timings = `seconds p50 / p99 / max: approval created → mail with its link read ${spread(progress.mailLatencyMs)}; decision acknowledged → callback delivered ${spread(told)}`;
  const held = results.every((r) => r.held);
  if (held) rmSync(dir, { recursive: true, force: true });
  const downtime = outage.windows.map((w) => `${((w.back - w.start) / 1000).toFixed(1)} s`);
  return {
    title: `${backend === 'postgres' ? 'PostgreSQL' : 'SQLite'}: ${instances.length} instance(s), ${approvals} approvals, ${kills()} SIGKILLs${cluster ? `, ${outage.windows.length} PostgreSQL crash-restart (down ${downtime.join(', ')})` : ''}, ${((Date.now() - variantStarted) / 1000).toFixed(0)} s, seed ${seed}`,
    results,
    timings,
    held,
    logs: held ? undefined : logDir,
    enough: kills() >= minKills && (!cluster || outage.windows.length === 1),
  };
}

function printSummary(variant) {
  const lines = [`\n== ${variant.title} ==`];
  for (const result of variant.results) {
    lines.push(`${result.held ? 'held  ' : 'FAILED'}  ${result.name}: ${result.figures}`);
    for (const problem of result.problems.slice(0, 10)) lines.push(`          - ${problem}`);
    if (result.problems.length > 10) lines.push(`          … and ${result.problems.length - 10} more`);
  }
  lines.push(`timings (not invariants), ${variant.timings}`);
  if (variant.logs) lines.push(`instance logs kept in ${variant.logs}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function cleanUp() {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
}

process.once('SIGINT', () => {
  process.stderr.write('interrupted: stopping instances and removing the PostgreSQL cluster\n');
  cleanUp().finally(() => {
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    process.exit(130);
  });
});

let failed = false;
try {
  for (const backend of backends) {
    const variant = await runVariant(backend, Number(args.seed));
    printSummary(variant);
    if (!variant.held || !variant.enough) failed = true;
    if (!variant.enough) process.stdout.write('FAILED  the run had fewer kills or restarts than asked\n');
  }
} catch (error) {
  failed = true;
  process.stderr.write(`chaos run failed: ${error.stack ?? error}\n`);
  if (runDir) process.stderr.write(`its logs are in ${runDir}\n`);
  await cleanUp();
}
process.stdout.write(
  `\n${failed ? 'chaos: an invariant FAILED' : 'chaos: every invariant held'} (${elapsed()} in all)\n`,
);
process.exit(failed ? 1 : 0);

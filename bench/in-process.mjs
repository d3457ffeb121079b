// signoff's own units of work called in process, with no HTTP in between: the limit the
// database and the domain code set on this machine, which the HTTP figures are a share of.
// Imported by throughput.mjs; it needs `npm run build` (it loads dist/).
import { readFileSync } from 'node:fs';
import Sqlite from 'better-sqlite3';

const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);

/**
 * A signoff in this process on the database `env` names, with its workers (the background
 * checkpoint of SQLite is part of what a write costs), and its two units of work: the create
 * that `POST /v1/approvals` runs for the admin key, and the decision `POST /d/{token}` runs.
 */
export async function startInProcess(env, adminKey) {
  const [
    { loadConfig },
    { createSignoff },
    { createApiKeyAuthenticator },
    { requestApprovalAs },
    { decideByLink },
  ] = await Promise.all([
    dist('config.js'),
    dist('server.js'),
    dist('auth/api-keys.js'),
    dist('approvals/as-principal.js'),
    dist('approvals/links.js'),
  ]);
  const config = loadConfig({ ...env, SIGNOFF_ADMIN_KEY: adminKey, SIGNOFF_LOG_LEVEL: 'error' });
  const signoff = await createSignoff(config, { print: () => {} });
  const { services } = signoff;
  const admin = await createApiKeyAuthenticator(services.db).authenticate(adminKey);
  return {
    create: async (body) => (await requestApprovalAs(services, admin, body, undefined)).approval,
    decide: (token) => decideByLink(services, token, { verdict: 'approve', ip: '127.0.0.1' }),
    close: () => signoff.close(),
  };
}

/**
 * Units of work per second: `connections` callers one after another each, as many as HTTP
 * has connections, for `seconds` after a warm-up of the same. `work(i)` gets a running number.
 */
export async function unitsPerSecond({ seconds, warmUpSeconds, connections }, work) {
  let next = 0;
  const run = async (ms) => {
    const until = performance.now() + ms;
    let done = 0;
    const caller = async () => {
      while (performance.now() < until) {
        await work(next++);
        done++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: connections }, caller));
    return (done * 1000) / (performance.now() - t0);
  };
  await run(warmUpSeconds * 1000);
  return run(seconds * 1000);
}

/** Empties the WAL, waiting out a background checkpoint that holds it at the moment. */
async function emptyWal(db) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const [{ busy }] = db.pragma('wal_checkpoint(TRUNCATE)');
    if (!busy) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the WAL could not be emptied before counting trees');
}

/**
 * The B-trees (tables and indexes) a unit of work writes on SQLite, and the pages its commit
 * appends to the WAL on average: the WAL is emptied, the work runs `times` times (each its own
 * commit, as under load), and every page appended is named by the tree that owns it (SQLite's
 * dbstat). A page split or a database that grows adds pages now and then, never trees; page 1,
 * the file's header, is rewritten when the file grows and is counted as a page only.
 */
export async function treesWritten(file, work, times = 100) {
  const db = new Sqlite(file);
  try {
    db.pragma('busy_timeout = 10000');
    await emptyWal(db);
    // A read held open from the empty WAL on keeps the background checkpoint from starting it
    // over meanwhile (it would overwrite the frames counted here).
    db.prepare('begin').run();
    db.prepare('select count(*) from sqlite_schema').get();
    for (let i = 0; i < times; i++) await work(i);
    const wal = readFileSync(`${file}-wal`);
    db.prepare('commit').run();
    const pageSize = wal.readUInt32BE(8);
    const pages = [];
    // A 32-byte header, then frames: a 24-byte header (page number first), then the page.
    for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize)
      pages.push(wal.readUInt32BE(offset));
    const owners = new Map(
      db
        .prepare('select pageno, name from dbstat')
        .all()
        .map((r) => [r.pageno, r.name]),
    );
    const trees = new Set(pages.map((page) => owners.get(page) ?? `page ${page}`));
    trees.delete('sqlite_schema');
    return { pages: pages.length / times, trees: [...trees].sort() };
  } finally {
    db.close();
  }
}

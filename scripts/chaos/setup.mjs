// What the run needs around signoff: ports, its environment, approvers' keys, the database
// restart window, and how figures are summed up.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';

const BIN = new URL('../../bin/signoff.js', import.meta.url).pathname;
/** After the database is back, pooled connections it dropped may still fail a request or two. */
const RESTART_GRACE_MS = 5_000;

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment of every signoff this run starts: none of the caller's SIGNOFF_* settings leak in. */
export function baseEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SIGNOFF_')));
}

/** `signoff keys create` for an approver: an API key with their identity, printed once on stdout. */
export function createApproverKey(env, person) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, 'keys', 'create', '--permission', 'approvals:decide', '--actor', person, '--name', person],
      { env },
      (error, stdout) => (error ? reject(error) : resolve(stdout.trim().split('\n').at(-1))),
    );
  });
}

/** "p50 / p99 / max" of a list of milliseconds, in seconds. */
export function spread(values) {
  if (values.length === 0) return 'none';
  const sorted = [...values].map((v) => Math.max(0, v)).sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return [at(0.5), at(0.99), sorted.at(-1)].map((ms) => (ms / 1000).toFixed(1)).join(' / ');
}

/** The database restart window(s): a 5xx is excused only when its request overlapped one. */
export function createOutage() {
  const windows = [];
  return {
    windows,
    begin: () => windows.push({ start: Date.now(), end: Number.POSITIVE_INFINITY }),
    end: () => {
      const last = windows.at(-1);
      last.back = Date.now();
      last.end = last.back + RESTART_GRACE_MS;
    },
    overlaps: (from, to) => windows.some((w) => from <= w.end && to >= w.start),
  };
}

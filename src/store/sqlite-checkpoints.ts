import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the background thread copies the WAL back into the database. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The WAL size (pages) at which a commit checkpoints by itself: only a fallback for when the
 * background thread falls behind, so the WAL stays bounded (about 40 MB) whatever happens.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

// Runs in its own thread with its own connection; plain JavaScript, since workers load no
// TypeScript. PASSIVE never waits for a writer or reader: it copies what it can and returns.
// Errors are sent as text: SQLite's errors do not survive the trip between threads.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
let timer;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED')
        parentPort.postMessage({ error: String(error.message) });
    }
  }, workerData.intervalMs);
  parentPort.postMessage({ ready: true });
} catch (error) {
  parentPort.postMessage({ error: String(error.message) });
}
parentPort.on('message', () => {
  clearInterval(timer);
  db?.close();
  parentPort.close();
});
`;

/** A background checkpointer; `stop` ends its thread and closes its connection. */
export interface Checkpointer {
  stop(): Promise<void>;
}

/** What the thread says: that it checkpoints from now on, or why a checkpoint failed. */
type CheckpointerMessage = { ready: true } | { error: string };

/**
 * Checkpoints a WAL database from a worker thread. A checkpoint syncs the WAL and the database
 * file to disk and copies pages between them: done by a commit, as SQLite does by default, it
 * stalls that commit and every request queued behind it for milliseconds. `onReady` hears
 * that the thread has opened the database (only then may commits leave checkpoints to it);
 * `onError` hears once of each reason a checkpoint failed other than a busy database.
 */
export function startCheckpointer(
  path: string,
  handlers: { onReady(): void; onError(message: string): void },
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, driver, intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  // A failing checkpoint fails every 100 ms, for the same reason: tell each reason once.
  const told = new Set<string>();
  const tell = (message: string) => {
    if (told.has(message)) return;
    told.add(message);
    handlers.onError(message);
  };
  worker.on('message', (message: CheckpointerMessage) => {
    if ('ready' in message) handlers.onReady();
    else tell(message.error);
  });
  worker.on('error', (error: unknown) => tell(error instanceof Error ? error.message : String(error)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // The thread never keeps the process alive: a process that is done may exit under it.
  worker.unref();
  return {
    stop() {
      worker.postMessage('stop');
      return exited;
    },
  };
}

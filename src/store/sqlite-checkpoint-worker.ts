import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * The checkpoint thread of src/store/sqlite-checkpoints.ts, loaded by file URL: the compiled
 * .js when signoff runs built, this .ts when the tests run the sources (Node strips its types,
 * so it may use no syntax but erasable types, and imports no module of signoff's own).
 */

/** What the thread is started with. */
export interface CheckpointerData {
  readonly path: string;
  readonly intervalMs: number;
}

/** What the thread says: that it checkpoints from now on, or why a checkpoint failed. */
export type CheckpointerMessage = { readonly ready: true } | { readonly error: string };

/** A busy database is the normal case: the next round copies what this one could not. */
const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens its own connection and checkpoints every `intervalMs`. PASSIVE never waits for a
 * writer or reader: it copies what it can and returns. Errors are sent as text: SQLite's
 * errors do not survive the trip between threads.
 */
function run(port: NonNullable<typeof parentPort>, data: CheckpointerData): void {
  const say = (message: CheckpointerMessage) => port.postMessage(message);
  let db: Database.Database | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const opened = new Database(data.path, { fileMustExist: true });
    db = opened;
    opened.pragma('busy_timeout = 0');
    timer = setInterval(() => {
      try {
        opened.pragma('wal_checkpoint(PASSIVE)');
      } catch (error) {
        if (!(error instanceof Database.SqliteError && BUSY.has(error.code)))
          say({ error: messageOf(error) });
      }
    }, data.intervalMs);
    say({ ready: true });
  } catch (error) {
    say({ error: messageOf(error) });
  }
  // Any message from the parent means stop.
  port.on('message', () => {
    clearInterval(timer);
    db?.close();
    port.close();
  });
}

if (!parentPort)
  throw new Error('sqlite-checkpoint-worker runs as a worker thread (see sqlite-checkpoints.ts).');
const data: CheckpointerData = workerData;
run(parentPort, data);

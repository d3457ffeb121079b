import { Worker } from 'node:worker_threads';
import type { CheckpointerData, CheckpointerMessage } from './sqlite-checkpoint-worker.js';

/** How often the background thread copies the WAL back into the database. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The WAL size (pages) at which a commit checkpoints by itself: only a fallback for when the
 * background thread falls behind, so the WAL stays bounded (about 40 MB) whatever happens.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * The thread's module, beside this one: compiled JavaScript when signoff runs from dist/, the
 * TypeScript source when the tests run the sources (Node strips its types).
 */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './sqlite-checkpoint-worker.ts' : './sqlite-checkpoint-worker.js',
  import.meta.url,
);

/** A background checkpointer; `stop` ends its thread and closes its connection. */
export interface Checkpointer {
  stop(): Promise<void>;
}

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
  const workerData: CheckpointerData = { path, intervalMs: CHECKPOINT_INTERVAL_MS };
  const worker = new Worker(WORKER_URL, { workerData });
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

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How long a test waits for something that normally takes well under a second. Waiting ends
 * as soon as it happens, so only a failing test pays for the room left for a loaded machine.
 */
export const PATIENCE_MS = 30_000;

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver answered; 0 while it left the request hanging. */
  readonly status: number;
}

/** How the receiver answers: a status, a status after a pause or with headers, or never ('hang'). */
export type Answer = number | 'hang' | { status: number; delayMs?: number; headers?: Record<string, string> };

/**
 * A real HTTP receiver on loopback for callbacks. `respond` decides each answer; `stop`
 * and `start` take it down and bring it back on the same port.
 */
export async function startReceiver(options: { port?: number } = {}) {
  const received: ReceivedRequest[] = [];
  let respondWith: (request: ReceivedRequest) => Answer = () => 200;
  let server: Server | undefined;
  let port = options.port ?? 0;
  const waiters: (() => void)[] = [];
  const hanging = new Set<() => void>();

  async function start() {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const answer = respondWith({ ...request, status: 0 });
        if (answer === 'hang') {
          received.push({ ...request, status: 0 });
          for (const wake of waiters.splice(0)) wake();
          hanging.add(() => res.destroy());
          return;
        }
        const {
          status,
          delayMs = 0,
          headers = {},
        } = typeof answer === 'number' ? { status: answer } : answer;
        setTimeout(() => {
          res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end('ok', () => {
            received.push({ ...request, status });
            for (const wake of waiters.splice(0)) wake();
          });
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  async function stop() {
    for (const drop of hanging) drop();
    hanging.clear();
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async function waitFor(count: number, timeoutMs = PATIENCE_MS): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (received.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`expected ${count} request(s), got ${received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return received;
  }

  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}/hook`;
    },
    get port() {
      return port;
    },
    received,
    respond(fn: (request: ReceivedRequest) => Answer) {
      respondWith = fn;
    },
    waitFor,
    start,
    stop,
  };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `check` until it stops throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(25);
    }
  }
}

import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import type { ApprovalChanges } from '../changes.js';

/** Every listener of every approval hears this when the channel reconnects: re-read, you may have missed one. */
const RESYNC = Symbol('resync');
/** What `subscribeAll` listens to: every change, with its approval's id (null on a resync). */
const ANY_CHANGE = Symbol('any approval changed');

/** What the LISTEN connection tells: a change it heard, and that it (re)connected and may have missed some. */
interface Heard {
  change(approvalId: string): void;
  resync(): void;
}

/**
 * One LISTEN connection on `channel`, reconnected with backoff whenever it is lost; after each
 * connect it tells `heard` to resync, since changes may have passed while it was away.
 */
function createListenConnection(
  options: { url: string; channel: string; logger: Logger },
  heard: Heard,
): { start(): Promise<void>; close(): Promise<void> } {
  const { channel, logger } = options;
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  async function connect(): Promise<void> {
    // keepAlive finds a half-open connection; without it wake-ups could stop silently.
    const next = new pg.Client({
      connectionString: options.url,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    });
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload) heard.change(message.payload);
    });
    const lost = (error?: Error) => {
      if (client !== next) return;
      client = undefined;
      logger.warn({ err: error }, 'LISTEN connection lost; reconnecting');
      void next.end().catch(() => {});
      scheduleReconnect();
    };
    next.on('error', lost);
    next.on('end', () => lost());
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    failures = 0;
    heard.resync();
  }

  function scheduleReconnect() {
    if (closed || retry) return;
    const wait = Math.min(30_000, 250 * 2 ** Math.min(failures++, 7));
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error) => {
        logger.warn({ err: error, retryInMs: wait }, 'cannot LISTEN for approval changes');
        scheduleReconnect();
      });
    }, wait);
  }

  return {
    start: connect,
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}

/**
 * Approval changes across instances through PostgreSQL LISTEN/NOTIFY. Every instance
 * (this one included) hears every NOTIFY and wakes its own waiters.
 */
export function createPostgresChanges(options: {
  url: string;
  schema: string;
  logger: Logger;
  notify: (channel: string, approvalId: string) => Promise<void>;
}): ApprovalChanges & { start(): Promise<void>; close(): Promise<void> } {
  const channel = `signoff_changes_${options.schema}`;
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const connection = createListenConnection(
    { url: options.url, channel, logger: options.logger },
    {
      change(approvalId) {
        emitter.emit(approvalId);
        emitter.emit(ANY_CHANGE, approvalId);
      },
      resync() {
        emitter.emit(RESYNC);
        emitter.emit(ANY_CHANGE, null);
      },
    },
  );

  return {
    start: connection.start,
    close: connection.close,
    publish(approvalId) {
      options.notify(channel, approvalId).catch((error) => {
        options.logger.warn(
          { err: error, approvalId },
          'NOTIFY failed; waiters will see the change at their timeout',
        );
      });
    },
    subscribe(approvalId, listener) {
      emitter.on(approvalId, listener);
      emitter.on(RESYNC, listener);
      return () => {
        emitter.off(approvalId, listener);
        emitter.off(RESYNC, listener);
      };
    },
    subscribeAll(listener) {
      emitter.on(ANY_CHANGE, listener);
      return () => emitter.off(ANY_CHANGE, listener);
    },
  };
}

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { BACKEND, POSTGRES_URL } from './database.js';

/**
 * The test PostgreSQL server's port: signoff's own database connections (a pool growing, a
 * NOTIFY after a commit) are not traffic to a target, and may open at any moment.
 */
const DATABASE_PORT = BACKEND === 'postgres' ? Number(new URL(POSTGRES_URL).port || 5432) : undefined;

/**
 * Watches this process's outbound traffic through Node's own diagnostics channels: every
 * HTTP(S) request started and every TCP address `net.connect` tries, except the database's.
 * Tests use it to prove a refused target was refused before any request existed, and that
 * traffic stayed on loopback.
 */
export function watchConnections() {
  const requests: string[] = [];
  const attempts: string[] = [];
  const onRequest = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    requests.push(request.host);
  };
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    socket.on('connectionAttempt', (address: string, port: number) => {
      if (port !== DATABASE_PORT) attempts.push(address);
    });
  };
  subscribe('http.client.request.start', onRequest);
  subscribe('net.client.socket', onSocket);
  return {
    /** Host names (or addresses) of the HTTP requests started, in order. */
    requests,
    /** Addresses that sockets tried to connect to, in order. */
    attempts,
    /** Forgets what was seen so far. */
    clear() {
      requests.length = 0;
      attempts.length = 0;
    },
    stop() {
      unsubscribe('http.client.request.start', onRequest);
      unsubscribe('net.client.socket', onSocket);
    },
  };
}

/** Whether an address is on this machine's loopback (127.0.0.0/8, ::1, or the mapped form). */
export function isLoopback(address: string): boolean {
  return /^(::ffff:)?127\./i.test(address) || address === '::1';
}

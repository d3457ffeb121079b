import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type AllowList, checkAddress, normalizeHost, parseIp } from './address-policy.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to the addresses it has now: the one DNS answer a request uses. */
export type ResolveHost = (host: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address in its order. */
export const resolveWithSystem: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export type CheckedTarget =
  | { readonly allowed: true; readonly addresses: readonly ResolvedAddress[] }
  | { readonly allowed: false; readonly reason: string };

/** Rejects when `signal` aborts: DNS lookups take no signal of their own. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * Resolves a URL's host once and checks every address it has: one refused address refuses
 * the target, so a name cannot smuggle 169.254.169.254 in beside a harmless address.
 * A failed lookup rejects (the caller decides what an unknown name means).
 */
export async function checkTarget(
  url: URL,
  list: AllowList | undefined,
  resolve: ResolveHost,
  signal: AbortSignal,
): Promise<CheckedTarget> {
  const host = normalizeHost(url.hostname);
  const literal = parseIp(host) !== undefined;
  const addresses = literal
    ? [{ address: host, family: host.includes(':') ? 6 : 4 } as const]
    : await untilAborted(resolve(host), signal);
  if (addresses.length === 0) return { allowed: false, reason: `${host} has no address` };
  for (const { address } of addresses) {
    const verdict = checkAddress(list, literal ? undefined : host, address);
    if (!verdict.allowed) return verdict;
  }
  return { allowed: true, addresses };
}

/**
 * A `lookup` that answers only with addresses checked beforehand, so the socket connects
 * where the check looked and a second DNS answer (rebinding) never comes into it.
 */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_host, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const usable = family ? addresses.filter((a) => a.family === family) : addresses;
    const first = usable[0];
    if (!first) {
      const error: NodeJS.ErrnoException = new Error('No checked address of the requested family.');
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
    } else if (options.all)
      callback(
        null,
        usable.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  };
}

export interface PinnedRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signal: AbortSignal;
  /** Extra trusted CA (PEM), for a private certificate authority. */
  readonly ca?: string | undefined;
}

/** What signoff reads of an answer: its status, and when it asks to be tried again. */
export interface PinnedAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
}

/**
 * Sends one request to `url`, connecting only to `addresses`. The URL's host still names
 * the Host header, TLS SNI and the certificate checked. Resolves with the status (and any
 * Retry-After) once the headers arrive; the body is never read. Redirects are not followed.
 */
export function sendPinned(
  url: URL,
  addresses: readonly ResolvedAddress[],
  request: PinnedRequest,
): Promise<PinnedAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        // A fresh connection each time: a pooled socket would skip the check of this request.
        agent: false,
        lookup: pinnedLookup(addresses),
        signal: request.signal,
        ...(request.ca ? { ca: request.ca } : {}),
      },
      (response) => {
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode ?? 0, retryAfter });
        response.destroy();
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

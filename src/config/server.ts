import { API_KEY_PATTERN } from '../auth/secrets.js';
import { SignoffError } from '../core/errors.js';
import { parseCidr } from '../egress/address-policy.js';
import { isSingleLine } from '../input-rules.js';
import { duration, type Env, integer, list, text, url } from './read.js';

/** Where signoff listens, how it is reached and named, and what it accepts from a connection. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  /** How mails name this signoff (SIGNOFF_INSTANCE_NAME; the public URL's host by default). */
  readonly instanceName: string;
  readonly adminKey: string | undefined;
  /** The bearer token GET /metrics asks for; without one, /metrics is not served. */
  readonly metricsToken: string | undefined;
  readonly bodyLimitBytes: number;
  /**
   * Receiving a request: its line and headers must arrive within `headers` (counted from the
   * connection's start or the request's first byte), all of it within `request`; otherwise it is
   * answered 408 and closed. `keepAlive`: how long a connection may sit idle between requests.
   * None of them limits the answer (long polls, event streams).
   */
  readonly httpServerTimeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
  /**
   * Decision-link lookups per minute that may find nothing for one client address before it
   * waits; sign-in-link lookups have as many, counted apart.
   */
  readonly linkRateLimit: number;
  /**
   * Which proxies in front of signoff to believe about the client's address: a number of hops,
   * or their addresses and CIDRs; false believes none (the connection's address counts).
   */
  readonly trustProxy: false | number | readonly string[];
  readonly logLevel: string;
}

/** A secret a caller sends as a bearer token: 20 to 200 of the characters keys are made of. */
function key(env: Env, name: string, example: string): string | undefined {
  const value = text(env, name);
  if (value !== undefined && !API_KEY_PATTERN.test(value))
    throw new SignoffError(
      'invalid_input',
      `${name} must be 20 to 200 letters, digits, "_" or "-" (for example: ${example}).`,
    );
  return value;
}

/** SIGNOFF_INSTANCE_NAME: one line of plain text, or the public URL's host. */
function instanceName(env: Env, publicUrl: string): string {
  const raw = env.SIGNOFF_INSTANCE_NAME?.trim();
  if (!raw) return new URL(publicUrl).host;
  if (raw.length > 100 || !isSingleLine(raw))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_INSTANCE_NAME must be one line of at most 100 characters, such as "signoff (production)".',
    );
  return raw;
}

/** The inbound connection bounds; the headers' is never longer than the whole request's. */
function httpServerTimeouts(env: Env): ServerConfig['httpServerTimeouts'] {
  const bounds = {
    headersMs: duration(env, 'SIGNOFF_HTTP_HEADERS_TIMEOUT', '20s'),
    requestMs: duration(env, 'SIGNOFF_HTTP_REQUEST_TIMEOUT', '30s'),
    keepAliveMs: duration(env, 'SIGNOFF_HTTP_KEEP_ALIVE_TIMEOUT', '72s'),
  };
  for (const [name, ms] of [
    ['SIGNOFF_HTTP_HEADERS_TIMEOUT', bounds.headersMs],
    ['SIGNOFF_HTTP_REQUEST_TIMEOUT', bounds.requestMs],
    ['SIGNOFF_HTTP_KEEP_ALIVE_TIMEOUT', bounds.keepAliveMs],
  ] as const)
    if (ms < 1000)
      throw new SignoffError('invalid_input', `${name} must be at least 1s: 0 would mean no limit at all.`);
  return { ...bounds, headersMs: Math.min(bounds.headersMs, bounds.requestMs) };
}

/** SIGNOFF_TRUST_PROXY: unset (none), a number of hops, or a comma list of addresses and CIDRs. */
function trustProxy(env: Env): false | number | string[] {
  const raw = env.SIGNOFF_TRUST_PROXY?.trim();
  if (!raw) return false;
  if (/^\d+$/.test(raw)) return integer(env, 'SIGNOFF_TRUST_PROXY', 0, 1, 20);
  const entries = list(env, 'SIGNOFF_TRUST_PROXY');
  const problems = entries.flatMap((entry) => {
    const parsed = parseCidr(entry);
    return parsed.ok ? [] : [parsed.problem];
  });
  if (problems.length > 0)
    throw new SignoffError(
      'invalid_input',
      `SIGNOFF_TRUST_PROXY must be a number of hops, or addresses and CIDRs (e.g. 10.0.0.0/8): ${problems.join('; ')}.`,
    );
  return entries;
}

/** The server's settings. */
export function readServerConfig(env: Env): ServerConfig {
  // `[::]` is how URLs write an IPv6 host; listening wants it bare.
  const host = (env.SIGNOFF_HOST || '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const port = integer(env, 'SIGNOFF_PORT', 8080, 0, 65535);
  const publicUrl = (
    url(env, 'SIGNOFF_PUBLIC_URL', ['http:', 'https:']) ??
    `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  ).replace(/\/+$/, '');
  return {
    host,
    port,
    publicUrl,
    adminKey: key(env, 'SIGNOFF_ADMIN_KEY', 'sk_ and 40 random characters'),
    metricsToken: key(env, 'SIGNOFF_METRICS_TOKEN', '40 random characters'),
    instanceName: instanceName(env, publicUrl),
    bodyLimitBytes: integer(env, 'SIGNOFF_BODY_LIMIT', 64 * 1024, 1024, 10 * 1024 * 1024),
    httpServerTimeouts: httpServerTimeouts(env),
    linkRateLimit: integer(env, 'SIGNOFF_LINK_RATE_LIMIT', 120, 1, 1_000_000),
    trustProxy: trustProxy(env),
    logLevel: env.SIGNOFF_LOG_LEVEL || 'info',
  };
}

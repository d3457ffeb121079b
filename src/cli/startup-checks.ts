import { createServer } from 'node:net';
import type { Config } from '../config.js';
import { isUnspecifiedAddress, normalizeHost, parseIp } from '../egress/address-policy.js';

/**
 * What `serve` checks before it opens anything, shared with `signoff check` so that both find
 * the same problems and say them in the same words.
 */

/** Whether a host is the unspecified address (0.0.0.0, ::, [::]): every address, so nobody's to open. */
function isUnspecified(host: string): boolean {
  const address = parseIp(normalizeHost(host));
  return address !== undefined && isUnspecifiedAddress(address);
}

/**
 * Why the links signoff mails could not be opened, or undefined. A link to 0.0.0.0 or [::]
 * reaches no one (or, on some systems, the reader's own machine), and the mails go out anyway.
 */
export function publicUrlProblem(
  config: Config,
  env: Record<string, string | undefined>,
): string | undefined {
  if (!isUnspecified(new URL(config.publicUrl).hostname)) return undefined;
  const fix = `set SIGNOFF_PUBLIC_URL to the URL people open signoff at, e.g. http://localhost:${config.port || 8080} or https://signoff.example.com`;
  if (env.SIGNOFF_PUBLIC_URL)
    return `SIGNOFF_PUBLIC_URL=${env.SIGNOFF_PUBLIC_URL} names no address anyone can open (it means every address of this machine): ${fix}`;
  return `SIGNOFF_PUBLIC_URL is not set, so links in mails would use ${config.publicUrl}, which nobody can open (SIGNOFF_HOST=${env.SIGNOFF_HOST} listens on every address): ${fix}`;
}

/** The address as `serve` names it: host and port, an IPv6 host in brackets. */
export function listenAddress(config: Config): string {
  return `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}

/** One line for a failure to listen, in the operator's terms; undefined for any other error. */
export function describeListenError(error: unknown, config: Config): string | undefined {
  const code = (error as { code?: string }).code;
  const where = listenAddress(config);
  if (code === 'EADDRINUSE')
    return `port ${config.port} on ${config.host} is already in use (EADDRINUSE): stop what holds it or set SIGNOFF_PORT`;
  if (code === 'EADDRNOTAVAIL')
    return `cannot listen on ${where}: no such local address (EADDRNOTAVAIL); check SIGNOFF_HOST`;
  if (code === 'EACCES') return `not allowed to listen on ${where} (EACCES); use a port above 1023`;
  return undefined;
}

/**
 * Binds and releases the configured address, so a busy port or an address this machine does
 * not have is found before anything heavy is loaded or opened. Port 0 binds too: it cannot be
 * busy, but its host can still be missing.
 */
export async function probeListen(config: Config): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: config.host, port: config.port, exclusive: true }, () =>
      probe.close(() => resolve()),
    );
  });
}

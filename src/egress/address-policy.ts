import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which addresses signoff may connect to when a requester chose the URL (webhooks). Plain
 * functions over strings and bytes: no DNS, no sockets, so every rule is tested directly.
 */

/** An address range: the address's bytes (4 for IPv4, 16 for IPv6) and how many leading bits count. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** SIGNOFF_WEBHOOK_ALLOW, parsed: host names (exact, or `*.` for any name below) and ranges. */
export interface AllowList {
  readonly hosts: readonly string[];
  readonly cidrs: readonly Cidr[];
}

export type AddressVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

function ipv6Bytes(text: string): Uint8Array {
  let groups = text.split('%')[0] ?? '';
  // An embedded IPv4 tail (::ffff:127.0.0.1) becomes two hexadecimal groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(groups);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    groups = `${groups.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = groups.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/**
 * An address as bytes, or undefined if it is not one. An IPv4-mapped IPv6 address
 * (::ffff:127.0.0.1) is the IPv4 address it carries: that is where a socket would go.
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text)) return undefined;
  const bytes = ipv6Bytes(text);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a bare address (one address); explains what is wrong otherwise. */
export function parseCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; problem: string } {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return { ok: false, problem: `"${text}" is not an address range` };
  const bytes = parseIp(address);
  if (!bytes) return { ok: false, problem: `"${text}" is not an address range` };
  if (address.includes(':') && bytes.length === 4)
    return { ok: false, problem: `"${text}": write IPv4-mapped ranges as IPv4 (e.g. 127.0.0.1/32)` };
  const bits = bytes.length * 8;
  const prefix =
    prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits))
    return { ok: false, problem: `"${text}": the prefix length must be a number from 0 to ${bits}` };
  const cidr = { bytes, prefix };
  // 10.1.2.3/8 is likely a typo for one address or for 10.0.0.0/8: ask instead of guessing.
  if (!bytes.every((b, i) => b === maskedByte(cidr, i)))
    return { ok: false, problem: `"${text}" has bits set after its /${prefix} prefix` };
  return { ok: true, cidr };
}

function mustParseCidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.cidr;
}

function maskedByte(cidr: Cidr, index: number): number {
  const keep = Math.max(0, Math.min(8, cidr.prefix - index * 8));
  return (cidr.bytes[index] ?? 0) & ((0xff << (8 - keep)) & 0xff);
}

/** Whether an address (from parseIp) lies in a range. IPv4 never matches an IPv6 range, nor the reverse. */
export function inCidr(cidr: Cidr, address: Uint8Array): boolean {
  if (cidr.bytes.length !== address.length) return false;
  const candidate = { bytes: address, prefix: cidr.prefix };
  return address.every((_, i) => maskedByte(candidate, i) === maskedByte(cidr, i));
}

/** A URL's host name as the allow list compares it: lowercase, no brackets, no trailing dot. */
export function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Refused unless a listed range covers them: this machine itself (loopback, unspecified), the
 * link-local network where cloud metadata services answer, and metadata addresses elsewhere.
 */
const REFUSED = [
  { range: '0.0.0.0/8', what: 'unspecified' },
  { range: '127.0.0.0/8', what: 'loopback' },
  { range: '169.254.0.0/16', what: 'link-local (cloud metadata lives here)' },
  // Metadata services outside link-local: Alibaba Cloud's, Oracle Cloud's, and AWS's over
  // IPv6 (its instance metadata and EKS pod identity share one prefix).
  { range: '100.100.100.200/32', what: 'a cloud metadata address' },
  { range: '192.0.0.192/32', what: 'a cloud metadata address' },
  { range: '::/128', what: 'unspecified' },
  { range: '::1/128', what: 'loopback' },
  { range: 'fe80::/10', what: 'link-local' },
  { range: 'fd00:ec2::/32', what: 'cloud metadata addresses' },
  // IPv6 forms that carry an IPv4 address inside: IPv4-compatible (deprecated) and NAT64,
  // through which any refused IPv4 address above or below could be reached.
  { range: '::/96', what: 'an IPv4-compatible address' },
  { range: '64:ff9b::/96', what: 'a NAT64 address' },
  { range: '64:ff9b:1::/48', what: 'a NAT64 address' },
].map(({ range, what }) => ({ range, what, cidr: mustParseCidr(range) }));

/**
 * Private networks, refused by default: whoever may create an approval picks the URL, and
 * would otherwise have signoff post text of their choosing to hosts behind the firewall. A
 * listed range opens them, and so does a listed host name (the operator named that host;
 * an internal CI server is the usual case). Checked after REFUSED, so the metadata address
 * inside 100.64.0.0/10 stays refused behind a listed name.
 */
const PRIVATE = [
  { range: '10.0.0.0/8', what: 'a private network address' },
  { range: '172.16.0.0/12', what: 'a private network address' },
  { range: '192.168.0.0/16', what: 'a private network address' },
  { range: '100.64.0.0/10', what: 'a shared (carrier-grade NAT) address' },
  { range: 'fc00::/7', what: 'a unique-local (private) IPv6 address' },
].map(({ range, what }) => ({ range, what, cidr: mustParseCidr(range) }));

const HOST_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;

/** Parses a comma list of host names, `*.` wildcards, ranges and addresses; lists every mistake. */
export function parseAllowList(
  text: string,
): { ok: true; list: AllowList } | { ok: false; problems: string[] } {
  const hosts: string[] = [];
  const cidrs: Cidr[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const entry = normalizeHost(raw.trim());
    if (!entry) continue;
    if (/^[\d.]+(\/\d*)?$|^[\da-f:.]*:[\da-f:.]*(\/\d*)?$/.test(entry)) {
      const parsed = parseCidr(entry);
      if (parsed.ok) cidrs.push(parsed.cidr);
      else problems.push(parsed.problem);
    } else if (HOST_NAME.test(entry)) hosts.push(entry);
    else
      problems.push(
        `"${raw.trim()}" is neither a host name (ci.example.com, *.example.com) nor an address range`,
      );
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, list: { hosts, cidrs } };
}

function hostListed(list: AllowList, host: string): boolean {
  return list.hosts.some((entry) =>
    entry.startsWith('*.') ? host.endsWith(entry.slice(1)) : host === entry,
  );
}

/**
 * Whether signoff may connect to `address`, reached through a URL naming `host` (undefined
 * when the URL names an address). A listed range allows anything in it, loopback included;
 * a listed host name allows its ordinary and private addresses; otherwise the refused and
 * private ranges are refused, and with a list, a target must be listed.
 */
export function checkAddress(
  list: AllowList | undefined,
  host: string | undefined,
  address: string,
): AddressVerdict {
  const bytes = parseIp(address);
  if (!bytes) return { allowed: false, reason: `${address} is not an IP address` };
  if (list?.cidrs.some((cidr) => inCidr(cidr, bytes))) return { allowed: true };
  const refused = REFUSED.find((r) => inCidr(r.cidr, bytes));
  if (refused) return { allowed: false, reason: `${address} is ${refused.what}` };
  const listedName = list !== undefined && host !== undefined && hostListed(list, normalizeHost(host));
  if (listedName) return { allowed: true };
  const target = host === undefined ? address : `${host} (${address})`;
  const privateRange = PRIVATE.find((p) => inCidr(p.cidr, bytes));
  if (privateRange)
    return {
      allowed: false,
      reason: `${target} is ${privateRange.what}; list the host or its range in SIGNOFF_WEBHOOK_ALLOW to send webhooks there`,
    };
  if (!list) return { allowed: true };
  return { allowed: false, reason: `${target} is not in SIGNOFF_WEBHOOK_ALLOW` };
}

/**
 * The start-up banner's line about where webhooks go, so an operator whose CI host is on a
 * private network learns the setting before the first webhook is refused.
 */
export function describeWebhookPolicy(list: AllowList | undefined): string {
  if (list)
    return 'webhooks: only to the host names and ranges SIGNOFF_WEBHOOK_ALLOW lists (a private network address only behind a listed name or in a listed range)';
  return `webhooks: private networks (${PRIVATE.map((p) => p.range).join(', ')}) are refused, as are loopback and link-local; to allow a CI host on one, list its name or range in SIGNOFF_WEBHOOK_ALLOW (e.g. SIGNOFF_WEBHOOK_ALLOW=ci.internal or 10.1.2.0/24)`;
}

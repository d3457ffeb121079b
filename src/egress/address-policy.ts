import { BlockList, isIP, SocketAddress } from 'node:net';

/**
 * Which addresses signoff may connect to when a requester chose the URL (webhooks). Plain
 * functions over strings: no DNS, no sockets, so every rule is tested directly. Node reads the
 * addresses (SocketAddress) and matches them against ranges (BlockList).
 */

export type IpFamily = 'ipv4' | 'ipv6';

/** An address as Node reads it, and the family it reaches. */
export interface IpAddress {
  readonly socket: SocketAddress;
  /** An IPv4-mapped IPv6 address (::ffff:127.0.0.1) reaches IPv4: that is where a socket would go. */
  readonly family: IpFamily;
}

/** An address range: the family it belongs to, how many leading bits count, and Node's matcher. */
export interface Cidr {
  readonly family: IpFamily;
  readonly prefix: number;
  readonly block: BlockList;
}

/** SIGNOFF_WEBHOOK_ALLOW, parsed: host names (exact, or `*.` for any name below) and ranges. */
export interface AllowList {
  readonly hosts: readonly string[];
  readonly cidrs: readonly Cidr[];
}

export type AddressVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string };

function subnet(network: SocketAddress, prefix: number): BlockList {
  const block = new BlockList();
  block.addSubnet(network, prefix);
  return block;
}

const IPV4_MAPPED = subnet(new SocketAddress({ address: '::ffff:0:0', family: 'ipv6' }), 96);

/**
 * An address as Node reads it, or undefined if it is not one. A zone (fe80::1%eth0) names an
 * interface, not an address: it is dropped.
 */
export function parseIp(text: string): IpAddress | undefined {
  const version = isIP(text);
  if (version === 0) return undefined;
  const type = version === 4 ? 'ipv4' : 'ipv6';
  let socket: SocketAddress;
  try {
    // A SocketAddress, not a string, is what BlockList is asked about: it refuses a string it
    // cannot read by answering "not in the range", which would let such an address through.
    socket = new SocketAddress({ address: text.split('%')[0] ?? '', family: type });
  } catch {
    return undefined;
  }
  const family = type === 'ipv6' && IPV4_MAPPED.check(socket) ? 'ipv4' : type;
  return { socket, family };
}

/** The address as a number, read from the WHATWG URL parser's canonical form of it. */
function addressValue(ip: IpAddress): bigint {
  if (ip.socket.family === 'ipv4')
    return ip.socket.address.split('.').reduce((value, part) => (value << 8n) | BigInt(part), 0n);
  // Eight hexadecimal groups, or fewer around one `::`; never an IPv4 tail.
  const canonical = new URL(`http://[${ip.socket.address}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a bare address (one address); explains what is wrong otherwise. */
export function parseCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; problem: string } {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return { ok: false, problem: `"${text}" is not an address range` };
  const ip = parseIp(address);
  if (!ip) return { ok: false, problem: `"${text}" is not an address range` };
  if (ip.socket.family !== ip.family)
    return { ok: false, problem: `"${text}": write IPv4-mapped ranges as IPv4 (e.g. 127.0.0.1/32)` };
  const bits = ip.family === 'ipv4' ? 32 : 128;
  const prefix =
    prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits))
    return { ok: false, problem: `"${text}": the prefix length must be a number from 0 to ${bits}` };
  // 10.1.2.3/8 is likely a typo for one address or for 10.0.0.0/8: ask instead of guessing.
  // (BlockList would take it and ignore the bits after the prefix.)
  if (addressValue(ip) % (1n << BigInt(bits - prefix)) !== 0n)
    return { ok: false, problem: `"${text}" has bits set after its /${prefix} prefix` };
  return { ok: true, cidr: { family: ip.family, prefix, block: subnet(ip.socket, prefix) } };
}

function mustParseCidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.cidr;
}

/**
 * Whether an address (from parseIp) lies in a range. IPv4 never matches an IPv6 range, nor
 * the reverse (BlockList alone would match 127.0.0.1 against ::/0); an IPv4-mapped address
 * matches the IPv4 ranges.
 */
export function inCidr(cidr: Cidr, address: IpAddress): boolean {
  return cidr.family === address.family && cidr.block.check(address.socket);
}

const UNSPECIFIED = [mustParseCidr('0.0.0.0'), mustParseCidr('::')];

/** Whether an address is the unspecified one (0.0.0.0, ::, ::ffff:0.0.0.0): every address of this machine. */
export function isUnspecifiedAddress(address: IpAddress): boolean {
  return UNSPECIFIED.some((cidr) => inCidr(cidr, address));
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
  const ip = parseIp(address);
  if (!ip) return { allowed: false, reason: `${address} is not an IP address` };
  if (list?.cidrs.some((cidr) => inCidr(cidr, ip))) return { allowed: true };
  const refused = REFUSED.find((r) => inCidr(r.cidr, ip));
  if (refused) return { allowed: false, reason: `${address} is ${refused.what}` };
  const listedName = list !== undefined && host !== undefined && hostListed(list, normalizeHost(host));
  if (listedName) return { allowed: true };
  const target = host === undefined ? address : `${host} (${address})`;
  const privateRange = PRIVATE.find((p) => inCidr(p.cidr, ip));
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

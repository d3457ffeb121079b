import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SignoffError } from '../../src/core/errors.js';
import {
  type AllowList,
  checkAddress,
  describeWebhookPolicy,
  type IpAddress,
  inCidr,
  isUnspecifiedAddress,
  parseAllowList,
  parseCidr,
  parseIp,
} from '../../src/egress/address-policy.js';

function list(text: string): AllowList {
  const parsed = parseAllowList(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.list;
}

function allowed(allow: AllowList | undefined, host: string | undefined, address: string): boolean {
  return checkAddress(allow, host, address).allowed;
}

function cidr(text: string) {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.cidr;
}

function ip(text: string): IpAddress {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`${text} is not an address`);
  return parsed;
}

/** Whether two spellings name one address: the range of one address written as `b` holds `a`. */
function same(a: string, b: string): boolean {
  return inCidr(cidr(b), ip(a)) && inCidr(cidr(a), ip(b));
}

describe('parseIp', () => {
  it('reads IPv4 and IPv6, compressed or not, with an IPv4 tail or a zone', () => {
    expect(ip('10.1.2.3').family).toBe('ipv4');
    expect(ip('2001:db8::').family).toBe('ipv6');
    expect(same('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(same('fe80::1%eth0', 'fe80::1')).toBe(true);
    expect(same('64:ff9b::192.0.2.1', '64:ff9b::c000:201')).toBe(true);
    expect(same('2001:DB8::A', '2001:db8::a')).toBe(true);
    // The control: two addresses are not one.
    expect(same('::1', '::2')).toBe(false);
    expect(same('fe80::1%eth0', 'fe80::2')).toBe(false);
  });

  it('turns an IPv4-mapped address into the IPv4 address it carries', () => {
    expect(ip('::ffff:127.0.0.1').family).toBe('ipv4');
    expect(inCidr(cidr('127.0.0.1'), ip('::ffff:127.0.0.1'))).toBe(true);
    expect(inCidr(cidr('169.254.169.254'), ip('::ffff:a9fe:a9fe'))).toBe(true);
    expect(inCidr(cidr('127.0.0.1'), ip('0:0:0:0:0:ffff:7f00:1'))).toBe(true);
    expect(inCidr(cidr('127.0.0.2'), ip('::ffff:127.0.0.1'))).toBe(false);
  });

  it('knows the unspecified address in each of its spellings', () => {
    for (const text of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::ffff:0.0.0.0'])
      expect(isUnspecifiedAddress(ip(text)), text).toBe(true);
    for (const text of ['0.0.0.1', '::1', '::ffff:0.0.0.1'])
      expect(isUnspecifiedAddress(ip(text)), text).toBe(false);
  });

  it.each(['', 'localhost', '127.1', '256.0.0.1', '01.2.3.4', '1::2::3', '::ffff:1.2.3', '10.0.0.0/8'])(
    'is undefined for %j',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});

describe('parseCidr and inCidr', () => {
  it('matches addresses inside a range and no others', () => {
    expect(inCidr(cidr('10.0.0.0/8'), ip('10.255.0.1'))).toBe(true);
    expect(inCidr(cidr('10.0.0.0/8'), ip('11.0.0.1'))).toBe(false);
    expect(inCidr(cidr('172.16.0.0/12'), ip('172.31.255.255'))).toBe(true);
    expect(inCidr(cidr('172.16.0.0/12'), ip('172.32.0.0'))).toBe(false);
    expect(inCidr(cidr('fe80::/10'), ip('febf::1'))).toBe(true);
    expect(inCidr(cidr('fe80::/10'), ip('fec0::1'))).toBe(false);
    expect(inCidr(cidr('0.0.0.0/0'), ip('203.0.113.9'))).toBe(true);
  });

  it('reads a bare address as a range of one', () => {
    expect(cidr('192.0.2.7').prefix).toBe(32);
    expect(cidr('2001:db8::7').prefix).toBe(128);
  });

  it('never matches an IPv4 address against an IPv6 range, nor the reverse', () => {
    expect(inCidr(cidr('::/0'), ip('127.0.0.1'))).toBe(false);
    expect(inCidr(cidr('0.0.0.0/0'), ip('::1'))).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '::/129',
    '10.1.2.3/8',
    '::ffff:127.0.0.1/128',
    '300.0.0.0/8',
  ])('refuses %j', (text) => {
    expect(parseCidr(text).ok).toBe(false);
  });
});

describe('checkAddress without SIGNOFF_WEBHOOK_ALLOW', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '169.254.170.2',
    '0.0.0.0',
    '0.1.2.3',
    '100.100.100.200',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:0.0.0.0',
    // An IPv4 address carried inside IPv6, and other clouds' metadata services.
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::7f00:1',
    'fd00:ec2::23',
    '192.0.0.192',
  ])('refuses %s', (address) => {
    expect(allowed(undefined, 'hooks.example.com', address)).toBe(false);
    expect(allowed(undefined, undefined, address)).toBe(false);
  });

  it.each([
    '10.1.2.3',
    '10.255.255.255',
    '172.16.0.5',
    '172.31.255.255',
    '192.168.1.10',
    '100.64.0.1',
    '100.127.255.254',
    'fd00::5',
    'fc00::1',
    'fdff:ffff::1',
    // The same networks in the IPv6 forms that carry an IPv4 address.
    '::ffff:10.1.2.3',
    '::ffff:c0a8:10a',
    '0:0:0:0:0:ffff:ac10:5',
    '::10.1.2.3',
    '64:ff9b::10.1.2.3',
    '64:ff9b:1::a01:203',
  ])('refuses %s, a private network address, by name or by address', (address) => {
    expect(allowed(undefined, 'ci.internal', address)).toBe(false);
    expect(allowed(undefined, undefined, address)).toBe(false);
  });

  it('says which setting opens a private network', () => {
    const verdict = checkAddress(undefined, 'ci.internal', '10.1.2.3');
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toContain('SIGNOFF_WEBHOOK_ALLOW');
  });

  it.each([
    '203.0.113.9',
    '11.0.0.1',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '100.63.255.255',
    '100.128.0.0',
    '2001:db8::1',
    'fe00::1',
  ])('allows %s: public addresses, also just outside the private ranges, are ordinary targets', (address) => {
    expect(allowed(undefined, 'hooks.example.com', address)).toBe(true);
    expect(allowed(undefined, undefined, address)).toBe(true);
  });

  it('refuses what is not an address at all', () => {
    expect(allowed(undefined, 'x', 'not-an-address')).toBe(false);
  });
});

describe('checkAddress with SIGNOFF_WEBHOOK_ALLOW', () => {
  const allow = list('ci.example.com, *.builds.example.com, 10.20.0.0/16, 127.0.0.1, fd00:1::/32');

  it('allows a listed host name at an ordinary address, whatever address it has', () => {
    expect(allowed(allow, 'ci.example.com', '192.168.7.7')).toBe(true);
    expect(allowed(allow, 'CI.Example.COM.', '192.168.7.7')).toBe(true);
    expect(allowed(allow, 'a.b.builds.example.com', '10.9.9.9')).toBe(true);
  });

  it('allows any host whose address is in a listed range, a refused range included', () => {
    expect(allowed(allow, 'anything.example.net', '10.20.3.4')).toBe(true);
    expect(allowed(allow, undefined, '127.0.0.1')).toBe(true);
    expect(allowed(allow, undefined, '::ffff:127.0.0.1')).toBe(true);
    expect(allowed(allow, undefined, 'fd00:1::9')).toBe(true);
  });

  it('refuses what it does not list', () => {
    expect(allowed(allow, 'other.example.com', '192.168.7.7')).toBe(false);
    expect(allowed(allow, 'builds.example.com', '10.9.9.9')).toBe(false);
    expect(allowed(allow, 'evilci.example.com', '10.9.9.9')).toBe(false);
    expect(allowed(allow, 'ci.example.com.evil.net', '10.9.9.9')).toBe(false);
    expect(allowed(allow, undefined, '10.21.0.1')).toBe(false);
    expect(allowed(allow, undefined, '127.0.0.2')).toBe(false);
  });

  it('opens a private network only for a listed name or range', () => {
    expect(allowed(allow, undefined, '10.20.3.4')).toBe(true);
    expect(allowed(allow, undefined, '::ffff:10.20.3.4')).toBe(true);
    expect(allowed(allow, 'ci.example.com', 'fd12::1')).toBe(true);
    expect(allowed(allow, undefined, '10.21.0.1')).toBe(false);
    expect(allowed(allow, 'other.example.com', '172.16.0.1')).toBe(false);
    expect(allowed(list('100.64.0.0/10'), 'cgnat.example.net', '100.64.0.9')).toBe(true);
    expect(allowed(list('100.64.0.0/10'), undefined, '10.0.0.1')).toBe(false);
  });

  it('keeps refusing loopback, link-local and metadata addresses behind a listed name', () => {
    expect(allowed(allow, 'ci.example.com', '100.100.100.200')).toBe(false);
    expect(allowed(allow, 'ci.example.com', '169.254.169.254')).toBe(false);
    expect(allowed(allow, 'ci.example.com', '127.0.0.2')).toBe(false);
    expect(allowed(allow, 'ci.example.com', '::1')).toBe(false);
    expect(allowed(allow, 'ci.example.com', '::ffff:169.254.169.254')).toBe(false);
  });
});

describe('describeWebhookPolicy', () => {
  it('says without SIGNOFF_WEBHOOK_ALLOW that private networks are refused, and which setting opens one', () => {
    const line = describeWebhookPolicy(undefined);
    for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'])
      expect(line).toContain(range);
    expect(line).toContain('SIGNOFF_WEBHOOK_ALLOW=');
  });

  it('says with SIGNOFF_WEBHOOK_ALLOW that only what it lists is reached', () => {
    expect(describeWebhookPolicy(list('ci.example.com'))).toMatch(/only to .* SIGNOFF_WEBHOOK_ALLOW lists/);
  });
});

describe('parseAllowList', () => {
  it('skips blanks and lowercases names', () => {
    expect(list(' CI.Example.com ,, 10.0.0.0/8 ,').hosts).toEqual(['ci.example.com']);
  });

  it('lists every mistake', () => {
    const parsed = parseAllowList('10.1.2.3/8, https://ci.example.com, ci.example.com:8080, ok.example.com');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems).toHaveLength(3);
  });
});

describe('SIGNOFF_WEBHOOK_ALLOW in the configuration', () => {
  it('is undefined when unset or empty', () => {
    expect(loadConfig({}).webhookAllow).toBeUndefined();
    expect(loadConfig({ SIGNOFF_WEBHOOK_ALLOW: ' ' }).webhookAllow).toBeUndefined();
  });

  it('is parsed when set', () => {
    expect(
      loadConfig({ SIGNOFF_WEBHOOK_ALLOW: 'ci.example.com,127.0.0.1/32' }).webhookAllow?.cidrs,
    ).toHaveLength(1);
  });

  it.each(['10.0.0.0/33', '*.', 'http://ci.example.com', 'ci example'])('stops the start on %j', (value) => {
    let thrown: unknown;
    try {
      loadConfig({ SIGNOFF_WEBHOOK_ALLOW: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SignoffError);
    expect((thrown as SignoffError).code).toBe('invalid_input');
  });
});

import { describe, expect, it } from 'vitest';
import { EMAIL_PATTERN, normalizeApprover, normalizeIdentity } from '../../src/core/identity.js';

describe('one person, one spelling', () => {
  it('ignores case and surrounding space', () => {
    expect(normalizeIdentity('  Alice@Example.COM ')).toBe('alice@example.com');
  });

  it('composes Unicode (NFC), so a decomposed é is the same person', () => {
    expect(normalizeIdentity('rene\u0301@example.com')).toBe(normalizeIdentity('ren\u00e9@example.com'));
  });

  it('writes an internationalised domain in ASCII, so it equals its punycode', () => {
    expect(normalizeIdentity('bob@Bücher.example')).toBe('bob@xn--bcher-kva.example');
    expect(normalizeIdentity('bob@xn--bcher-kva.example')).toBe('bob@xn--bcher-kva.example');
  });

  it('drops a trailing dot of the domain, which mailers ignore', () => {
    expect(normalizeIdentity('alice@corp.com.')).toBe('alice@corp.com');
  });

  it('refuses addresses whose domain a URL or a mailer would read differently', () => {
    const address = new RegExp(EMAIL_PATTERN, 'u');
    for (const odd of ['alice@corp.com.', 'alice@corp.com/x', 'alice@corp.com?x', 'alice@corp..com'])
      expect(address.test(odd)).toBe(false);
    expect(address.test('alice@bücher.example')).toBe(true);
  });

  it('folds plus-addressing only for the domains it is told', () => {
    const rules = { plusAddressDomains: ['example.com'] };
    expect(normalizeIdentity('alice+deploys@example.com', rules)).toBe('alice@example.com');
    expect(normalizeIdentity('alice+deploys@other.example', rules)).toBe('alice+deploys@other.example');
    expect(normalizeIdentity('alice+deploys@example.com')).toBe('alice+deploys@example.com');
    expect(normalizeIdentity('x+y@any.example', { plusAddressDomains: ['*'] })).toBe('x@any.example');
  });

  it('compares subjects exactly and keeps groups as written', () => {
    expect(normalizeIdentity('subject:Repo:Acme/Web')).toBe('subject:Repo:Acme/Web');
    expect(normalizeApprover('group:Release-Managers')).toBe('group:Release-Managers');
  });

  it('is idempotent', () => {
    const rules = { plusAddressDomains: ['xn--bcher-kva.example'] };
    const once = normalizeIdentity(' Bob+x@BÜCHER.example', rules);
    expect(once).toBe('bob@xn--bcher-kva.example');
    expect(normalizeIdentity(once, rules)).toBe(once);
  });
});

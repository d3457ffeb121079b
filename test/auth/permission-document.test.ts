import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantsFor } from '../../src/auth/grants.js';
import { loadPermissions, parsePermissionDocument } from '../../src/auth/permission-document.js';
import { type Grant, type Principal, permitsApproval } from '../../src/auth/principal.js';
import { SignoffError } from '../../src/core/errors.js';

function refusal(source: string): string {
  try {
    parsePermissionDocument(source, 'permissions.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(SignoffError);
    expect((error as SignoffError).code).toBe('invalid_input');
    return (error as Error).message;
  }
  throw new Error('the document was accepted');
}

describe('the permission document', () => {
  it('names the path and line of each mistake', () => {
    const message = refusal(`issuers:
  - issuer: https://idp.example.com
    audience: signoff
rules:
  - scopes: [deploy]
    permissions: [approvals:read]
  - groups: [leads]
    permissions: [approvals:approve]
`);
    expect(message).toContain('/rules/1/permissions/0 (line 8)');
  });

  it('refuses symmetric algorithms, unknown fields, unlisted issuers and broken YAML', () => {
    expect(
      refusal('issuers:\n  - issuer: https://idp.example.com\n    audience: x\n    algorithms: [HS256]\n'),
    ).toContain('/issuers/0/algorithms/0 (line 4)');
    expect(refusal('rules:\n  - permissions: [admin]\n    scope: [x]\n')).toContain('"scope"');
    expect(refusal('rules:\n  - issuer: https://other.example\n    permissions: [admin]\n')).toContain(
      'not listed',
    );
    expect(refusal('rules: [unclosed\n')).toContain('permissions.yaml');
  });

  it('makes every rule name its issuer once there are several issuers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-permissions-'));
    const path = join(dir, 'permissions.yaml');
    writeFileSync(
      path,
      'issuers:\n  - issuer: https://a.example\n    audience: x\nrules:\n  - name: anyone\n    permissions: [admin]\n',
    );
    expect(() => loadPermissions({ path })).not.toThrow();
    expect(() => loadPermissions({ path, issuer: 'https://b.example', audience: 'x' })).toThrow(
      /every rule must name its issuer; these do not: anyone/,
    );
  });

  it('adds the SIGNOFF_OIDC_ISSUER issuer and keeps the built-in rules without a document', () => {
    const document = loadPermissions({ issuer: 'https://idp.example.com', audience: 'signoff' });
    expect(document.issuers).toEqual([{ issuer: 'https://idp.example.com', audience: 'signoff' }]);
    const grants = grantsFor(
      document.rules,
      { iss: 'https://idp.example.com', scope: 'approvals:read openid' },
      [],
    );
    expect(grants.flatMap((g) => [...g.permissions])).toEqual(['approvals:read']);
    expect(() => loadPermissions({ issuer: 'https://idp.example.com' })).toThrow(SignoffError);
  });
});

describe('grants', () => {
  const rules = parsePermissionDocument(
    `rules:
  - groups: [leads, managers]
    permissions: [approvals:decide]
  - claims: { repository_owner: acme }
    permissions: [approvals:create]
    restrict: { metadata: { repository: { claim: repository }, env: staging } }
`,
    'inline',
  ).rules;
  const principal = (grants: Grant[]): Principal => ({
    kind: 'jwt',
    credentialId: 'x',
    actor: 'x',
    groups: [],
    grants,
  });

  it('denies by default and matches scopes, groups and claims', () => {
    expect(grantsFor(rules, { sub: 'x' }, [])).toEqual([]);
    expect(grantsFor(rules, { sub: 'x' }, ['managers'])).toHaveLength(1);
    expect(grantsFor(rules, { repository_owner: 'evil', repository: 'acme/web' }, [])).toEqual([]);
  });

  it('restricts a grant to approvals whose metadata matches the token', () => {
    const ci = principal(grantsFor(rules, { repository_owner: 'acme', repository: 'acme/web' }, []));
    expect(permitsApproval(ci, 'approvals:create', { repository: 'acme/web', env: 'staging' })).toBe(true);
    expect(permitsApproval(ci, 'approvals:create', { repository: 'acme/web', env: 'production' })).toBe(
      false,
    );
    expect(permitsApproval(ci, 'approvals:create', { repository: 'acme/api', env: 'staging' })).toBe(false);
    expect(grantsFor(rules, { repository_owner: 'acme' }, [])).toEqual([]);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc.js';
import { runCli } from '../helpers/process.js';
import { delay } from '../helpers/receiver.js';

const PERMISSIONS = (issuer: string, audience: string) => `
issuers:
  - issuer: ${issuer}
    audience: ${audience}
    typ: at+jwt
rules:
  - name: people decide and read
    issuer: ${issuer}
    scopes: [approvals:decide]
    permissions: [approvals:decide, approvals:read]
  - name: people ask for approvals
    issuer: ${issuer}
    scopes: [signoff.ask]
    permissions: [approvals:create, approvals:read]
  - name: trusted automation writes its own gates
    scopes: [approvals:inline-policy]
    permissions: [approvals:inline-policy]
  - name: scoped machines create and read
    scopes: [approvals:create]
    permissions: [approvals:create, approvals:read]
    machine: true
  - name: ci jobs, only for their own repository
    claims: { repository_owner: acme }
    permissions: [approvals:create, approvals:read]
    machine: true
    restrict:
      metadata:
        repository: { claim: repository }
`;

let provider: TestProvider;
let h: Harness;

beforeAll(async () => {
  provider = await startTestProvider({ accessTokenTtlSeconds: 300 });
  const dir = mkdtempSync(join(tmpdir(), 'signoff-oidc-'));
  const path = join(dir, 'permissions.yaml');
  writeFileSync(path, PERMISSIONS(provider.issuer, provider.audience));
  h = await startHarness({ SIGNOFF_PERMISSIONS: path, SIGNOFF_JWKS_COOLDOWN: '30s' }, { workers: false });
});
afterAll(async () => {
  await h?.close();
  await provider?.close();
});

const create = (token: string, overrides: Record<string, unknown> = {}) =>
  h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(overrides), token });

function expectInvalidToken(res: Awaited<ReturnType<Harness['api']>>) {
  expect(res.statusCode).toBe(401);
  expect(res.json().error.code).toBe('invalid_token');
  expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
}

/** Re-signs a token's claims with a key signoff does not trust. */
async function forge(token: string, header: Record<string, unknown>, claims?: Record<string, unknown>) {
  const { privateKey } = await generateKeyPair('ES256');
  return new SignJWT({ ...decodeJwt(token), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
    .sign(privateKey);
}

describe('JWT access tokens from a real OpenID Provider', () => {
  it('lets a machine token with the right scope in, and refuses one without it with 403', async () => {
    const good = await provider.machineToken({ scopes: ['approvals:create'] });
    const created = await create(good);
    expect(created.statusCode).toBe(201);
    expect(created.json().requester).toBe('subject:signoff-test-machine');
    const noScope = await provider.machineToken({ clientId: 'other-machine', scopes: ['signoff:other'] });
    const refused = await create(noScope);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('forbidden');
  });

  it('refuses a missing, garbage or non-JWT credential with 401 and no JWKS fetch', async () => {
    const before = provider.jwksFetches();
    const none = await h.api({ method: 'GET', url: '/v1/approvals', token: null });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    for (const bad of [
      'garbage',
      'a.b',
      'not a token at all',
      'x'.repeat(5000),
      'eyJ.eyJ.',
      'Zm9v.YmFy.YmF6',
    ]) {
      expectInvalidToken(await h.api({ method: 'GET', url: '/v1/approvals', token: bad }));
    }
    expect(provider.jwksFetches()).toBe(before);
  });

  it('refuses alg none, HS256 signed with the public key, an unknown kid, wrong iss and aud, and a tampered payload', async () => {
    const real = await provider.machineToken({ scopes: ['approvals:create'] });
    expect((await create(real)).statusCode).toBe(201);
    const [head, body] = real.split('.');
    const claims = decodeJwt(real);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    const algNone = `${encode({ alg: 'none', typ: 'at+jwt' })}.${body}.`;
    const jwks = (await (await fetch(`${provider.issuer}/jwks`)).json()) as {
      keys: Record<string, unknown>[];
    };
    const publicJwk = jwks.keys.find((k) => k.kid === decodeProtectedHeader(real).kid);
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: String(publicJwk?.kid) })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    const unknownKid = await forge(real, { kid: 'no-such-key' });
    const rightKidWrongKey = await forge(real, { kid: decodeProtectedHeader(real).kid });
    const wrongIss = await forge(real, { kid: 'x' }, { iss: 'https://evil.example.com' });
    const tamperedPayload = `${head}.${encode({ ...claims, scope: 'admin approvals:create' })}.${real.split('.')[2]}`;
    for (const token of [algNone, hs256, unknownKid, rightKidWrongKey, wrongIss, tamperedPayload]) {
      expectInvalidToken(await create(token));
    }
  });

  it('refuses a token for another audience, an expired one and one not yet valid', async () => {
    const other = await startTestProvider();
    try {
      // Same shape, but minted by a provider signoff does not trust.
      expectInvalidToken(await create(await other.machineToken({ scopes: ['approvals:create'] })));
    } finally {
      await other.close();
    }
    // A genuine token of the trusted provider, but signoff is configured for another audience.
    const dir = mkdtempSync(join(tmpdir(), 'signoff-oidc-aud-'));
    const path = join(dir, 'permissions.yaml');
    writeFileSync(path, PERMISSIONS(provider.issuer, 'https://another-service.example'));
    const elsewhere = await startHarness({ SIGNOFF_PERMISSIONS: path }, { workers: false });
    try {
      const token = await provider.machineToken({ scopes: ['approvals:create'] });
      expect(decodeJwt(token).aud).toBe(provider.audience);
      expectInvalidToken(await elsewhere.api({ method: 'GET', url: '/v1/approvals/apr_x', token }));
    } finally {
      await elsewhere.close();
    }

    const notYet = await provider.machineToken({
      clientId: 'future-machine',
      scopes: ['approvals:create'],
      claims: { nbf: Math.floor(Date.now() / 1000) + 600 },
    });
    expect(decodeJwt(notYet).nbf).toBeGreaterThan(Date.now() / 1000);
    expectInvalidToken(await create(notYet));

    const expiring = await provider.machineToken({
      clientId: 'expiring-machine',
      scopes: ['approvals:create'],
    });
    const exp = (decodeJwt(expiring).exp as number) * 1000;
    h.advance(exp - Date.now() + 1000);
    try {
      expectInvalidToken(await create(expiring));
    } finally {
      h.advance(-(exp - Date.now() + 1000));
    }
  });

  it('refuses a token issued further in the future than the clock skew', async () => {
    // signoff's clock runs ten minutes behind the issuer's: the token's iat is ahead of it.
    const ahead = await provider.machineToken({
      clientId: 'issued-ahead-machine',
      scopes: ['approvals:create'],
    });
    h.advance(-600_000);
    try {
      expectInvalidToken(await create(ahead));
    } finally {
      h.advance(600_000);
    }
    // Ten seconds is within SIGNOFF_OIDC_CLOCK_SKEW (30 s) and forgiven.
    const close = await provider.machineToken({
      clientId: 'issued-close-machine',
      scopes: ['approvals:create'],
    });
    h.advance(-10_000);
    try {
      expect((await create(close)).statusCode).toBe(201);
    } finally {
      h.advance(10_000);
    }
  });

  it('refuses a cached token one second after its exp', async () => {
    const token = await provider.machineToken({ clientId: 'cached-machine', scopes: ['approvals:create'] });
    expect((await create(token)).statusCode).toBe(201);
    expect((await create(token)).statusCode).toBe(201);
    const exp = (decodeJwt(token).exp as number) * 1000;
    const shift = exp - Date.now() + 1000;
    h.advance(shift);
    try {
      expectInvalidToken(await create(token));
    } finally {
      h.advance(-shift);
    }
  });

  it('lets group approvers decide with a user token carrying the group, and not without it', async () => {
    const created = (
      await create(await provider.machineToken({ scopes: ['approvals:create'] }), {
        approvers: ['group:release-managers'],
      })
    ).json();
    const outsider = await provider.userToken({
      account: 'bob',
      email: 'bob@example.com',
      groups: ['developers'],
      scopes: ['approvals:decide'],
    });
    const refused = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: outsider,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('not_approver');
    const manager = await provider.userToken({
      account: 'alice',
      email: 'Alice@Example.com',
      groups: ['release-managers'],
      scopes: ['approvals:decide'],
    });
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: manager,
    });
    expect(decided.statusCode).toBe(201);
    expect(decided.json()).toMatchObject({
      status: 'approved',
      decisions: [{ actor: 'alice@example.com', via: 'api' }],
    });
    const row = await h.signoff.services.db
      .selectFrom('decisions')
      .selectAll()
      .where('approval_id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ issuer: provider.issuer, subject: 'alice' });
  });

  it('keeps a CI token restricted by repository to its own repository', async () => {
    const ci = await provider.machineToken({
      clientId: 'ci-web',
      scopes: [],
      claims: { repository_owner: 'acme', repository: 'acme/web' },
    });
    const own = await create(ci, { metadata: { repository: 'acme/web' } });
    expect(own.statusCode).toBe(201);
    const foreign = await create(ci, { metadata: { repository: 'acme/payments' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden');
    expect((await create(ci)).statusCode).toBe(403);
    expect(
      (await h.api({ method: 'GET', url: `/v1/approvals/${own.json().id}`, token: ci })).statusCode,
    ).toBe(200);
    const other = (
      await create(await provider.machineToken({ scopes: ['approvals:create'] }), {
        metadata: { repository: 'acme/payments' },
      })
    ).json();
    const hidden = await h.api({ method: 'GET', url: `/v1/approvals/${other.id}`, token: ci });
    expect(hidden.statusCode).toBe(404);
    expect(
      (await h.api({ method: 'GET', url: `/v1/approvals/${other.id}/wait?timeout=1s`, token: ci }))
        .statusCode,
    ).toBe(404);
    expect((await h.api({ method: 'GET', url: '/v1/approvals', token: ci })).statusCode).toBe(403);
    const outsider = await provider.machineToken({
      clientId: 'ci-other-org',
      scopes: [],
      claims: { repository_owner: 'evil', repository: 'acme/web' },
    });
    expect((await create(outsider, { metadata: { repository: 'acme/web' } })).statusCode).toBe(403);
  });

  it("supersedes and cancels within a repository's restriction, never across repositories", async () => {
    const ciToken = (clientId: string, repository: string) =>
      provider.machineToken({ clientId, scopes: [], claims: { repository_owner: 'acme', repository } });
    const status = async (id: string) =>
      (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json().status;
    const web = await ciToken('ci-web-run-1', 'acme/web');
    const payments = await ciToken('ci-payments', 'acme/payments');
    const paymentsApproval = (
      await create(payments, { key: 'production', metadata: { repository: 'acme/payments' } })
    ).json();
    const first = (await create(web, { key: 'production', metadata: { repository: 'acme/web' } })).json();
    // Another run of the same repository (another subject) shares the repository's approvals.
    const laterRun = await ciToken('ci-web-run-2', 'acme/web');
    await create(laterRun, { key: 'production', metadata: { repository: 'acme/web' } });
    expect(await status(first.id)).toBe('cancelled');
    expect(await status(paymentsApproval.id)).toBe('pending');
    const unrestricted = await provider.machineToken({ scopes: ['approvals:create'] });
    const cancel = await h.api({
      method: 'POST',
      url: `/v1/approvals/${paymentsApproval.id}/cancel`,
      token: unrestricted,
    });
    expect(cancel.statusCode).toBe(403);
    expect(cancel.json().error.code).toBe('not_owner');
    expect(await status(paymentsApproval.id)).toBe('pending');
  });
});

describe('identity', () => {
  // Some providers send `email_verified` as a string; only `true` and "true" verify.
  it.each([
    ['boolean false', false],
    ['the string "false"', 'false'],
    ['"FALSE"', 'FALSE'],
    ['0', 0],
    ['an empty string', ''],
    ['null', null],
    ['"yes"', 'yes'],
    ['an object', { value: true }],
  ])('does not take an email the issuer has not verified: email_verified %s', async (_, verified) => {
    const created = (
      await create(await provider.machineToken({ scopes: ['approvals:create'] }), {
        approvers: ['lead@example.com'],
      })
    ).json();
    const impostor = await provider.machineToken({
      clientId: 'impostor',
      scopes: ['approvals:decide'],
      claims: { email: 'lead@example.com', email_verified: verified },
    });
    expect(decodeJwt(impostor)).toMatchObject({ email: 'lead@example.com', email_verified: verified });
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: impostor,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('not_approver');
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${created.id}` })).json().status).toBe(
      'pending',
    );
  });

  it.each([
    ['boolean true', true],
    ['the string "true", as Cognito sends it', 'true'],
    ['absent', undefined],
  ])('takes the email when email_verified is %s', async (_, verified) => {
    const created = (
      await create(await provider.machineToken({ scopes: ['approvals:create'] }), {
        approvers: ['lead@example.com'],
      })
    ).json();
    const lead = await provider.machineToken({
      clientId: 'lead-client',
      scopes: ['approvals:decide'],
      claims: { email: 'lead@example.com', ...(verified === undefined ? {} : { email_verified: verified }) },
    });
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: lead,
    });
    expect(res.statusCode).toBe(201);
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${created.id}` })).json().decisions).toEqual([
      expect.objectContaining({ actor: 'lead@example.com', verdict: 'approve' }),
    ]);
  });

  it('counts one person once, whichever of their tokens they come with', async () => {
    const alice = (claims: Record<string, unknown>) =>
      provider.machineToken({ clientId: 'alice-sub', scopes: ['approvals:decide'], claims });
    const withEmail = await alice({ email: 'alice@example.com', email_verified: true, groups: ['release'] });
    const withoutEmail = await alice({ groups: ['release'] });
    const decide = async (id: string, token: string) =>
      h.api({ method: 'POST', url: `/v1/approvals/${id}/decisions`, payload: { verdict: 'approve' }, token });

    // A 2-of-N gate of a group: the same subject without its email is not a second member.
    const gate = (
      await create(await provider.machineToken({ scopes: ['approvals:create'] }), {
        approvers: ['group:release', 'bob@example.com'],
        required: 2,
      })
    ).json();
    expect((await decide(gate.id, withEmail)).statusCode).toBe(201);
    const twice = await decide(gate.id, withoutEmail);
    expect(twice.statusCode).toBe(403);
    expect(twice.json().error.code).toBe('not_approver');
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${gate.id}` })).json().status).toBe('pending');

    // Where a gate names the subject too, the subject is still the person who already decided.
    // Naming a subject is trusted automation's to do (a machine can hold one).
    const named = (
      await create(
        await provider.machineToken({
          clientId: 'trusted-automation',
          scopes: ['approvals:create', 'approvals:inline-policy'],
        }),
        { approvers: ['alice@example.com', 'subject:alice-sub', 'bob@example.com'], required: 2 },
      )
    ).json();
    expect((await decide(named.id, withEmail)).statusCode).toBe(201);
    const again = await decide(named.id, withoutEmail);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('duplicate_decision');
  });

  it('does not let a person whose token names no verified email ask for approvals', async () => {
    const unnamed = await provider.machineToken({ clientId: 'carol-sub', scopes: ['signoff.ask'] });
    const refused = await create(unnamed, { approvers: ['carol@example.com', 'lead@example.com'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('forbidden');
    const named = await provider.machineToken({
      clientId: 'carol-sub',
      scopes: ['signoff.ask'],
      claims: { email: 'carol@example.com', email_verified: true },
    });
    const created = await create(named, { approvers: ['carol@example.com', 'lead@example.com'] });
    expect(created.statusCode).toBe(201);
    expect(created.json().requester).toBe('carol@example.com');
  });

  it('does not let the token that asked approve with another token of the same subject', async () => {
    const asker = await provider.machineToken({
      clientId: 'dev-sub',
      scopes: ['approvals:create', 'approvals:decide', 'approvals:inline-policy'],
      claims: { email: 'dev@example.com', email_verified: true },
    });
    const created = (await create(asker, { approvers: ['subject:dev-sub', 'lead@example.com'] })).json();
    expect(created.requester).toBe('dev@example.com');
    const sameSubject = await provider.machineToken({ clientId: 'dev-sub', scopes: ['approvals:decide'] });
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: sameSubject,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('self_approval');
  });

  it('answers 503 identity_provider_unavailable, not 401, while the issuer cannot be reached', async () => {
    const down = 'http://127.0.0.1:9/idp';
    const dir = mkdtempSync(join(tmpdir(), 'signoff-oidc-down-'));
    const path = join(dir, 'permissions.yaml');
    writeFileSync(path, PERMISSIONS(down, 'https://signoff.test'));
    const app = await startHarness(
      { SIGNOFF_PERMISSIONS: path, SIGNOFF_HTTP_TIMEOUT: '1s' },
      { workers: false },
    );
    try {
      const { privateKey } = await generateKeyPair('ES256');
      const token = await new SignJWT({ scope: 'approvals:create' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .setIssuer(down)
        .setAudience('https://signoff.test')
        .setSubject('x')
        .setExpirationTime('5m')
        .sign(privateKey);
      const res = await app.api({ method: 'GET', url: '/v1/approvals/apr_x', token });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('identity_provider_unavailable');
    } finally {
      await app.close();
    }
  });
});

describe('idempotency with access tokens', () => {
  it("works for a credential whose issuer and subject are long, like a CI job's", async () => {
    const token = await provider.machineToken({
      clientId: `repo:acme/${'very-long-repository-name-'.repeat(4)}:environment:production`,
      scopes: ['approvals:create'],
    });
    const headers = { 'idempotency-key': 'deploy-1' };
    const first = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody(),
      token,
      headers,
    });
    const again = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody(),
      token,
      headers,
    });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
  });
});

describe('the CLI with an access token', () => {
  it('sends SIGNOFF_TOKEN as it is: a person in the group approves from the command line', async () => {
    const base = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
    const machine = await provider.machineToken({ scopes: ['approvals:create'] });
    const created = (await create(machine, { approvers: ['group:oncall'] })).json();
    const person = await provider.userToken({
      account: 'carol',
      email: 'carol@example.com',
      groups: ['oncall'],
      scopes: ['approvals:decide'],
    });
    const approved = await runCli(['approve', created.id, '--comment', 'from my terminal'], {
      SIGNOFF_URL: base,
      SIGNOFF_TOKEN: person,
    });
    expect(approved.code).toBe(0);
    const waited = await runCli(['wait', created.id], { SIGNOFF_URL: base, SIGNOFF_TOKEN: machine });
    expect(waited.code).toBe(0);
    const stored = (await h.api({ method: 'GET', url: `/v1/approvals/${created.id}` })).json();
    expect(stored.decisions).toMatchObject([
      { actor: 'carol@example.com', via: 'cli', comment: 'from my terminal' },
    ]);
  });
});

describe('keys at the provider', () => {
  it('accepts tokens signed with rotated keys without a restart', async () => {
    const rotating = await startTestProvider();
    const dir = mkdtempSync(join(tmpdir(), 'signoff-oidc-rotate-'));
    const path = join(dir, 'permissions.yaml');
    writeFileSync(path, PERMISSIONS(rotating.issuer, rotating.audience));
    const app = await startHarness(
      { SIGNOFF_PERMISSIONS: path, SIGNOFF_JWKS_COOLDOWN: '0.2s' },
      { workers: false },
    );
    try {
      const call = (token: string) =>
        app.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(), token });
      const before = await rotating.machineToken({ scopes: ['approvals:create'] });
      expect((await call(before)).statusCode).toBe(201);
      await rotating.rotateKeys();
      // The JWKS cooldown (0.2 s) runs on the wall clock inside jose, not on the application's
      // clock: only real time lets it pass. Sleeping can only overshoot, so load cannot break it.
      await delay(300);
      const after = await rotating.machineToken({ scopes: ['approvals:create'] });
      expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
      expect((await call(after)).statusCode).toBe(201);
    } finally {
      await app.close();
      await rotating.close();
    }
  });

  it('fetches the JWKS at most once per cooldown during a storm of 1,000 unknown kids', async () => {
    const real = await provider.machineToken({ scopes: ['approvals:create'] });
    expect((await create(real)).statusCode).toBe(201);
    const { privateKey } = await generateKeyPair('ES256');
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        new SignJWT(decodeJwt(real))
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: `storm-${i}` })
          .sign(privateKey),
      ),
    );
    const before = provider.jwksFetches();
    for (let start = 0; start < tokens.length; start += 100) {
      const batch = await Promise.all(tokens.slice(start, start + 100).map((token) => create(token)));
      for (const res of batch) expect(res.statusCode).toBe(401);
    }
    expect(provider.jwksFetches() - before).toBeLessThanOrEqual(1);
  });
});

import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminKey } from '../../src/auth/api-keys.js';
import type { Permission } from '../../src/auth/principal.js';
import { newId } from '../../src/ids.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc.js';

/**
 * Every protected route and the permission it needs (any one of them, when it lists several).
 * A new /v1 route must be added here.
 */
const PROTECTED: {
  method: 'GET' | 'POST';
  url: string;
  permission: Permission | Permission[];
  body?: unknown;
  /** The parameters the route's challenge adds after `Bearer`. */
  challenge?: string;
}[] = [
  { method: 'POST', url: '/v1/approvals', permission: 'approvals:create', body: approvalBody() },
  { method: 'POST', url: '/v1/approvals/dry-run', permission: 'approvals:create', body: approvalBody() },
  { method: 'GET', url: '/v1/approvals', permission: 'approvals:read' },
  { method: 'GET', url: '/v1/approvals/:id', permission: 'approvals:read' },
  { method: 'GET', url: '/v1/approvals/:id/wait', permission: 'approvals:read' },
  { method: 'GET', url: '/v1/approvals/:id/audit', permission: 'approvals:read' },
  {
    method: 'POST',
    url: '/v1/approvals/:id/decisions',
    permission: 'approvals:decide',
    body: { verdict: 'approve' },
  },
  { method: 'POST', url: '/v1/approvals/:id/cancel', permission: 'approvals:create', body: {} },
  {
    method: 'POST',
    url: '/v1/approvals/:id/break-glass',
    permission: 'approvals:break-glass',
    body: { reason: 'outage' },
  },
  {
    method: 'POST',
    url: '/v1/approvals/:id/break-glass/review',
    permission: 'approvals:read',
    body: { verdict: 'confirm' },
  },
  { method: 'GET', url: '/v1/break-glass', permission: 'approvals:read' },
  {
    method: 'POST',
    url: '/v1/delegations',
    permission: 'approvals:decide',
    body: { to: 'c@example.com', until: '2099-01-01T00:00:00Z' },
  },
  { method: 'GET', url: '/v1/delegations', permission: 'approvals:read' },
  { method: 'POST', url: '/v1/delegations/:id/end', permission: 'approvals:decide' },
  { method: 'GET', url: '/v1/outbox', permission: 'admin' },
  { method: 'GET', url: '/v1/audit/evidence', permission: 'admin' },
  { method: 'GET', url: '/v1/policies', permission: 'approvals:read' },
  { method: 'GET', url: '/v1/policies/:name/agreement', permission: 'approvals:read' },
  { method: 'GET', url: '/v1/policies/:name/versions', permission: 'approvals:read' },
  { method: 'GET', url: '/v1/grants', permission: 'approvals:read' },
  { method: 'POST', url: '/v1/grants/:id/revoke', permission: ['approvals:decide', 'approvals:create'] },
  {
    method: 'POST',
    url: '/mcp',
    permission: ['approvals:create', 'approvals:read'],
    body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    challenge: 'resource_metadata="http://signoff.test/.well-known/oauth-protected-resource/mcp"',
  },
];
// Public: health, the decision links (the token is the credential), SNS and GitHub (every
// message's signature is).
const PUBLIC = [
  'GET /healthz',
  'GET /readyz',
  'GET /d/:token',
  'POST /d/:token',
  'POST /d/:token/renew',
  'POST /integrations/aws/sns',
  'POST /integrations/github/webhook',
  // Guarded by Slack's signature instead of a credential: test/slack/interactions.test.ts.
  'POST /integrations/slack/interactions',
  'GET /openapi.json',
  'GET /docs',
  // Where an MCP client learns how to sign in (RFC 9728), and the methods /mcp refuses (405).
  'GET /.well-known/oauth-protected-resource',
  'GET /.well-known/oauth-protected-resource/mcp',
  'GET /mcp',
  'DELETE /mcp',
  // Metrics are off here (no SIGNOFF_METRICS_TOKEN): the route only says so. With the token
  // set, test/metrics.test.ts checks that it asks for it.
  'GET /metrics',
];

// The web app: pages that need a signed-in browser, forms that need a CSRF token, and the
// public sign-in pages and assets.
const WEB_SESSION = [
  'GET /',
  'GET /approvals/:id',
  'POST /approvals/:id/decisions',
  'GET /approvals/:id/events',
  'GET /events',
  'GET /grants',
  'POST /grants/:id/revoke',
  'POST /approvals/:id/cancel',
  'POST /approvals/decisions',
];
const WEB_CSRF = ['POST /sign-in', 'POST /sign-in/oidc', 'POST /sign-in/:token', 'POST /sign-out'];
const WEB_PUBLIC = [
  'GET /assets/app.css',
  'GET /assets/app.js',
  'GET /sign-in',
  'GET /sign-in/:token',
  'GET /sign-in/callback',
];

let h: Harness;
let provider: TestProvider;
let forgedJwt: string;
let approvalId: string;
const everyOtherPermission: Record<string, string> = {};
const everyOtherScope: Record<string, string> = {};

beforeAll(async () => {
  provider = await startTestProvider();
  h = await startHarness(
    { SIGNOFF_OIDC_ISSUER: provider.issuer, SIGNOFF_OIDC_AUDIENCE: provider.audience },
    { workers: false },
  );
  const { privateKey } = await generateKeyPair('ES256');
  const genuine = await provider.machineToken({ scopes: ['admin'] });
  forgedJwt = await new SignJWT(decodeJwt(genuine))
    .setProtectedHeader({ alg: 'ES256', kid: 'forged' })
    .sign(privateKey);
  approvalId = (await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() })).json().id;
  const all: Permission[] = ['approvals:create', 'approvals:read', 'approvals:decide', 'admin'];
  for (const needed of PROTECTED.map((route) => [route.permission].flat())) {
    const key = needed.join(' ');
    if (everyOtherPermission[key]) continue;
    const others = all.filter((p) => !needed.includes(p) && p !== 'admin');
    everyOtherPermission[key] = await h.keyFor('someone@example.com', others);
    // Built-in rules: a scope named like a permission grants it.
    everyOtherScope[key] = await provider.machineToken({
      clientId: `lacks-${needed.join('-')}`,
      scopes: others,
    });
  }
});
afterAll(async () => {
  await h.close();
  await provider.close();
});

describe('every protected route refuses missing, bad and under-privileged credentials', () => {
  it('covers every registered route', () => {
    const registered = h.signoff.app.routeTable.map((r) => `${r.method} ${r.url}`).sort();
    const known = [
      ...PROTECTED.map((r) => `${r.method} ${r.url}`),
      ...PUBLIC,
      ...WEB_SESSION,
      ...WEB_CSRF,
      ...WEB_PUBLIC,
    ].sort();
    expect(registered).toEqual(known);
    for (const route of h.signoff.app.routeTable) {
      expect(route.guarded, `${route.method} ${route.url}`).toBe(
        ![...PUBLIC, ...WEB_PUBLIC].includes(`${route.method} ${route.url}`),
      );
    }
  });

  describe.each(PROTECTED)('$method $url', (route) => {
    const call = (token: string | null) =>
      h.api({
        method: route.method,
        url: route.url.replace(':id', approvalId),
        payload: route.body as object,
        token,
      });

    it('401 unauthorized without a credential', async () => {
      const res = await call(null);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toBe(route.challenge ? `Bearer ${route.challenge}` : 'Bearer');
    });

    it('401 invalid_token with a bad credential', async () => {
      for (const bad of ['sk_not_a_real_key_000000000000000', 'garbage', 'a.b.c', forgedJwt]) {
        const res = await call(bad);
        expect(res.statusCode).toBe(401);
        expect(res.json().error.code).toBe('invalid_token');
        expect(res.headers['www-authenticate']).toContain('invalid_token');
        if (route.challenge) expect(res.headers['www-authenticate']).toContain(route.challenge);
      }
    });

    it('403 forbidden without the permission, for an API key and for an access token', async () => {
      const key = [route.permission].flat().join(' ');
      for (const credential of [everyOtherPermission[key], everyOtherScope[key]]) {
        const res = await call(credential as string);
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('forbidden');
      }
    });
  });
});

describe('every protected POST refuses a stranger before it looks at the body', () => {
  it.each(PROTECTED.filter((route) => route.method === 'POST'))('$url', async (route) => {
    const res = await h.api({
      method: 'POST',
      url: route.url.replace(':id', approvalId),
      payload: { nothing: 'that fits', verdict: 42 },
      token: null,
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthorized');
  });
});

describe('every web page refuses a browser without a session, every form one without a CSRF token', () => {
  it.each(WEB_SESSION)('%s', async (route) => {
    const [method, path] = route.split(' ') as ['GET' | 'POST', string];
    const res = await h.api({
      method,
      url: path.replace(':id', approvalId),
      token: null,
      ...(method === 'POST' ? { payload: { verdict: 'approve', _csrf: 'x' } } : {}),
    });
    if (method === 'GET') {
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toMatch(/^\/sign-in\?next=/);
    } else {
      expect(res.statusCode).toBe(401);
    }
  });

  it.each(WEB_CSRF)('%s', async (route) => {
    const [method, path] = route.split(' ') as ['POST', string];
    const res = await h.api({
      method,
      url: path.replace(':token', 'A'.repeat(43)),
      token: null,
      headers: { accept: 'application/json' },
      payload: path === '/sign-in' ? { email: 'lead@example.com', _csrf: 'forged' } : { _csrf: 'forged' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    // The web app's JSON errors have the API's shape, request id included.
    expect(res.json().error.requestId).toMatch(/^req_/);
  });
});

describe('the configured admin key', () => {
  it('retires the previous SIGNOFF_ADMIN_KEY when it changes', async () => {
    const rotated = 'sk_rotated_admin_key_abcdefghijklmnop';
    // Rotated here under a running server: with no key cache, the next request sees it.
    const rotation = await startHarness({ SIGNOFF_API_KEY_CACHE_TTL: '0' }, { workers: false });
    try {
      expect((await rotation.api({ method: 'GET', url: '/v1/outbox' })).statusCode).toBe(200);
      await ensureAdminKey(rotation.signoff.services.db, newId, new Date(), rotated);
      expect((await rotation.api({ method: 'GET', url: '/v1/outbox' })).statusCode).toBe(401);
      expect((await rotation.api({ method: 'GET', url: '/v1/outbox', token: rotated })).statusCode).toBe(200);
      await ensureAdminKey(rotation.signoff.services.db, newId, new Date(), rotation.adminKey);
      expect((await rotation.api({ method: 'GET', url: '/v1/outbox' })).statusCode).toBe(200);
      expect((await rotation.api({ method: 'GET', url: '/v1/outbox', token: rotated })).statusCode).toBe(401);
    } finally {
      await rotation.close();
    }
  });
});

describe('requests Fastify refuses before routing', () => {
  it('answer in the error shape with a code', async () => {
    const res = await h.api({
      method: 'GET',
      url: '/d/%ZZ',
      token: null,
      headers: { accept: 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
  });
});

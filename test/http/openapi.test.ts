import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLink } from '../../src/approvals/links.js';
import type { Approval } from '../../src/core/model.js';
import { approvalView } from '../../src/core/view.js';
import { findApproval } from '../../src/store/approvals.js';
import { runUnitOfWork } from '../../src/unit-of-work/context.js';
import { ajv } from '../../src/validation.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const METRICS_TOKEN = 'metrics_token_0123456789abcdef';
let h: Harness;
let dir: string;
let doc: Document;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-openapi-'));
  writeFileSync(
    join(dir, 'policies.yaml'),
    'policies:\n  production:\n    stages:\n      - type: human\n        gates:\n          - approvers: [lead@example.com]\n',
  );
  h = await startHarness(
    {
      SIGNOFF_POLICIES: join(dir, 'policies.yaml'),
      SIGNOFF_SNS_TOPICS: 'arn:aws:sns:eu-west-1:123456789012:approvals',
      SIGNOFF_METRICS_TOKEN: METRICS_TOKEN,
      // One unknown decision link a minute, so the second answers 429.
      SIGNOFF_LINK_RATE_LIMIT: '1',
    },
    { workers: false },
  );
  doc = (await h.api({ method: 'GET', url: '/openapi.json', token: null })).json();
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** "/v1/approvals/:id" as the document writes it. */
const documented = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('describes every route that is not hidden on purpose, and only those', () => {
    const routes = h.signoff.app.routeTable;
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const op = doc.paths[documented(route.url)]?.[route.method.toLowerCase()];
      if (route.hidden) expect(op, `${route.method} ${route.url} is hidden`).toBeUndefined();
      else expect(op, `${route.method} ${route.url} is neither described nor hidden`).toBeDefined();
    }
    const described = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const visible = routes.filter((r) => !r.hidden).map((r) => `${r.method} ${documented(r.url)}`);
    expect(described.sort()).toEqual(visible.sort());
  });

  it('lists on every operation the error codes it may answer, each under its status', () => {
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        expect(op.responses['500'], `${method} ${path} documents no 500`).toBeDefined();
        expect(
          Object.keys(op.responses).some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
      }
  });

  it('is rendered at /docs by signoff itself, with nothing from another origin', async () => {
    const res = await h.api({ method: 'GET', url: '/docs', token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.body).not.toMatch(/<script|https?:\/\/(?!ci\.example\.com)[^"<\s]*\.(js|css)/);
    for (const path of Object.keys(doc.paths)) expect(res.body).toContain(`<code>${path}</code>`);
    expect(res.body).toContain('<code>idempotency_conflict</code>');
  });
});

describe('real answers match the document', () => {
  const seen = new Set<string>();
  /** "POST /d/{token} link_used": every error code an operation answered with. */
  const seenCodes = new Set<string>();
  const issued: { op: string; res: LightMyRequestResponse }[] = [];

  /** Issues a request, checks its answer against the document, and records the operation. */
  async function call(route: string, options: InjectOptions & { token?: string | null }) {
    const res = await h.api(options);
    const op = `${String(options.method)} ${route}`;
    issued.push({ op, res });
    const operation = doc.paths[route]?.[String(options.method).toLowerCase()];
    expect(operation, `${op} is not in the document`).toBeDefined();
    const response = operation?.responses[String(res.statusCode)];
    expect(
      response,
      `${op} answered ${res.statusCode}, which it does not document: ${res.body}`,
    ).toBeDefined();
    const [type, content] = Object.entries(response?.content ?? {})[0] ?? [];
    expect(content?.schema, `${op} ${res.statusCode} has no schema`).toBeDefined();
    expect(String(res.headers['content-type']).split(';')[0]).toBe(type);
    const validate = ajv.compile(content?.schema as object);
    const body = type === 'application/json' ? res.json() : res.body;
    expect(validate(body), `${op} ${res.statusCode}: ${JSON.stringify(validate.errors)} in ${res.body}`).toBe(
      true,
    );
    seen.add(op);
    if (res.statusCode >= 400) seenCodes.add(`${op} ${res.json().error.code}`);
    return res;
  }

  /** Every error code `op` documents under a 4xx status, as the document lists them. */
  function documented4xxCodes(op: string): string[] {
    const [method, path] = op.split(' ') as [string, string];
    const responses = doc.paths[path]?.[method.toLowerCase()]?.responses ?? {};
    return Object.entries(responses)
      .filter(([status]) => status.startsWith('4'))
      .flatMap(([, response]) => {
        const schema = response.content?.['application/json']?.schema as {
          properties: { error: { properties: { code: { enum: string[] } } } };
        };
        return schema.properties.error.properties.code.enum;
      });
  }

  /** A decision link of `approver` for an approval's first stage, as its mail would carry it. */
  async function linkFor(approvalId: string, approver: string): Promise<string> {
    const approval = (await findApproval(h.signoff.services.db, approvalId)) as Approval;
    const link = await runUnitOfWork(h.signoff.services, (unit) =>
      issueLink(unit, approval, approval.policy.stages[0]?.name ?? '', approver),
    );
    return new URL(link.url).pathname;
  }

  it('for every documented operation, in success and in failure', async () => {
    const requester = await h.keyFor('dev@example.com', ['approvals:create', 'approvals:read']);
    const lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);
    const stranger = await h.keyFor('stranger@example.com', ['approvals:decide', 'approvals:read']);
    const readOnly = await h.keyFor('reader@example.com', ['approvals:read']);

    // Create: 201, replayed 200, conflicting key 409, bad input 400, no credential 401, bad 401, 403, 415.
    const post = (payload: unknown, extra: Partial<InjectOptions> & { token?: string | null } = {}) =>
      call('/v1/approvals', { method: 'POST', url: '/v1/approvals', payload: payload as object, ...extra });
    const created = await post(approvalBody(), { token: requester, headers: { 'idempotency-key': 'k-1' } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect(
      (await post(approvalBody(), { token: requester, headers: { 'idempotency-key': 'k-1' } })).statusCode,
    ).toBe(200);
    expect(
      (
        await post(approvalBody({ title: 'Other' }), {
          token: requester,
          headers: { 'idempotency-key': 'k-1' },
        })
      ).statusCode,
    ).toBe(409);
    expect((await post(approvalBody({ timeout: 'soon' }))).statusCode).toBe(400);
    expect((await post(approvalBody(), { token: null })).statusCode).toBe(401);
    expect((await post(approvalBody(), { token: 'sk_not_a_key' })).statusCode).toBe(401);
    expect((await post(approvalBody(), { token: readOnly })).statusCode).toBe(403);
    expect(
      (await post('title=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
        .statusCode,
    ).toBe(415);
    expect(
      (await post(approvalBody({ policy: 'production', approvers: undefined }), { token: requester }))
        .statusCode,
    ).toBe(201);

    // The dry run: 200, bad input 400, 403.
    const dryRun = (payload: unknown, token?: string) =>
      call('/v1/approvals/dry-run', {
        method: 'POST',
        url: '/v1/approvals/dry-run',
        payload: payload as object,
        token,
      });
    expect((await dryRun(approvalBody(), requester)).json().outcome).toBe('needs_review');
    expect((await dryRun(approvalBody({ timeout: 'soon' }))).statusCode).toBe(400);
    expect((await dryRun(approvalBody(), readOnly)).statusCode).toBe(403);

    // List, read, wait, audit.
    const list = (url: string, token?: string) => call('/v1/approvals', { method: 'GET', url, token });
    expect((await list('/v1/approvals?limit=1')).json().nextCursor).toEqual(expect.any(String));
    expect((await list('/v1/approvals?limit=0')).statusCode).toBe(400);
    const get = (url: string) => call('/v1/approvals/{id}', { method: 'GET', url });
    expect((await get(`/v1/approvals/${id}`)).statusCode).toBe(200);
    expect((await get('/v1/approvals/apr_missing')).statusCode).toBe(404);
    const wait = (url: string) => call('/v1/approvals/{id}/wait', { method: 'GET', url });
    expect((await wait(`/v1/approvals/${id}/wait?timeout=0.2s`)).statusCode).toBe(200);
    expect((await wait(`/v1/approvals/${id}/wait?timeout=later`)).statusCode).toBe(400);

    // Decide: 403 not an approver, 403 self approval is covered by its own suite; 201, then 409.
    const decide = (approval: string, token: string, payload: object = { verdict: 'approve' }) =>
      call('/v1/approvals/{id}/decisions', {
        method: 'POST',
        url: `/v1/approvals/${approval}/decisions`,
        token,
        payload,
      });
    expect((await decide(id, stranger)).statusCode).toBe(403);
    expect((await decide(id, lead, { verdict: 'maybe' })).statusCode).toBe(400);
    const decided = await decide(id, lead, { verdict: 'approve', comment: 'ship it' });
    expect(decided.statusCode).toBe(201);
    expect((await decide(id, lead)).statusCode).toBe(409);
    expect((await decide('apr_missing', lead)).statusCode).toBe(404);

    // Cancel: 200, then 409; 403 for whoever did not create it.
    const other = (await post(approvalBody(), { token: requester })).json().id as string;
    const cancel = (approval: string, token?: string) =>
      call('/v1/approvals/{id}/cancel', {
        method: 'POST',
        url: `/v1/approvals/${approval}/cancel`,
        token,
        payload: { reason: 'not needed' },
      });
    const notMine = await h.keyFor('other@example.com', ['approvals:create', 'approvals:read']);
    expect((await cancel(other, notMine)).statusCode).toBe(403);
    expect((await cancel(other, requester)).statusCode).toBe(200);
    expect((await cancel(other, requester)).statusCode).toBe(409);

    const audit = (url: string) => call('/v1/approvals/{id}/audit', { method: 'GET', url });
    expect((await audit(`/v1/approvals/${id}/audit`)).json().items.length).toBeGreaterThan(2);
    expect((await audit('/v1/approvals/apr_missing/audit')).statusCode).toBe(404);

    // Operations.
    expect((await call('/v1/outbox', { method: 'GET', url: '/v1/outbox?status=pending' })).statusCode).toBe(
      200,
    );
    expect((await call('/v1/outbox', { method: 'GET', url: '/v1/outbox?status=lost' })).statusCode).toBe(400);
    expect((await call('/v1/outbox', { method: 'GET', url: '/v1/outbox', token: lead })).statusCode).toBe(
      403,
    );
    expect((await call('/healthz', { method: 'GET', url: '/healthz', token: null })).statusCode).toBe(200);
    expect((await call('/readyz', { method: 'GET', url: '/readyz', token: null })).statusCode).toBe(200);

    const metrics = (token: string | null) => call('/metrics', { method: 'GET', url: '/metrics', token });
    expect((await metrics(METRICS_TOKEN)).body).toContain('signoff_approvals_created_total');
    expect((await metrics(null)).statusCode).toBe(401);

    // Policies.
    expect((await call('/v1/policies', { method: 'GET', url: '/v1/policies' })).json().items).toHaveLength(1);
    expect((await call('/v1/policies', { method: 'GET', url: '/v1/policies', token: null })).statusCode).toBe(
      401,
    );
    const agreement = (url: string) => call('/v1/policies/{name}/agreement', { method: 'GET', url });
    expect((await agreement('/v1/policies/production/agreement')).statusCode).toBe(200);
    expect((await agreement('/v1/policies/nope/agreement')).statusCode).toBe(404);
    const versions = (url: string) => call('/v1/policies/{name}/versions', { method: 'GET', url });
    expect((await versions('/v1/policies/production/versions')).json().items).toHaveLength(1);
    expect((await versions('/v1/policies/nope/versions')).statusCode).toBe(404);

    // The evidence pack of every approval so far (admin): JSON, a period that is none, a reader.
    const evidence = (url: string, token?: string) =>
      call('/v1/audit/evidence', { method: 'GET', url, token });
    const everything = '/v1/audit/evidence?from=2000-01-01&to=2999-12-31';
    expect((await evidence(everything)).json().summary.chain.verified).toBe(true);
    expect((await evidence('/v1/audit/evidence?from=someday&to=2026-12-31')).statusCode).toBe(400);
    expect((await evidence(everything, readOnly)).statusCode).toBe(403);

    // Standing grants: listed (200, 401), revoked (200, 404, 403 without decide or create).
    const grants = (token?: string | null) => call('/v1/grants', { method: 'GET', url: '/v1/grants', token });
    expect((await grants()).json().items).toEqual([]);
    expect((await grants(null)).statusCode).toBe(401);
    const revoke = (grant: string, token?: string) =>
      call('/v1/grants/{id}/revoke', { method: 'POST', url: `/v1/grants/${grant}/revoke`, token });
    expect((await revoke('grt_missing')).statusCode).toBe(404);
    expect((await revoke('grt_missing', readOnly)).statusCode).toBe(403);

    // Break-glass: refused without its own permission (403), approved at once (200); reviewed by
    // whom it skipped (200), never by whoever broke it (403); listed (200).
    const oncall = await h.keyFor('oncall@example.com', ['approvals:break-glass', 'approvals:read']);
    const urgent = (await post(approvalBody(), { token: requester })).json().id as string;
    const breakIt = (token: string) =>
      call('/v1/approvals/{id}/break-glass', {
        method: 'POST',
        url: `/v1/approvals/${urgent}/break-glass`,
        token,
        payload: { reason: 'checkout is down' },
      });
    expect((await breakIt(readOnly)).statusCode).toBe(403);
    expect((await breakIt(oncall)).statusCode).toBe(200);
    const reviewIt = (token: string) =>
      call('/v1/approvals/{id}/break-glass/review', {
        method: 'POST',
        url: `/v1/approvals/${urgent}/break-glass/review`,
        token,
        payload: { verdict: 'confirm' },
      });
    expect((await reviewIt(oncall)).statusCode).toBe(403);
    expect((await reviewIt(lead)).statusCode).toBe(200);
    expect(
      (await call('/v1/break-glass', { method: 'GET', url: '/v1/break-glass', token: lead })).statusCode,
    ).toBe(200);

    // Delegations: declared (201, 400 when too long), listed (200), ended (200, then 409 and 404).
    const delegate = (payload: object) =>
      call('/v1/delegations', { method: 'POST', url: '/v1/delegations', token: lead, payload });
    const soon = new Date(Date.now() + 86_400_000).toISOString();
    const made = await delegate({ to: 'pm@example.com', until: soon });
    expect(made.statusCode).toBe(201);
    expect((await delegate({ to: 'pm@example.com', until: '2999-01-01T00:00:00Z' })).statusCode).toBe(400);
    expect(
      (await call('/v1/delegations', { method: 'GET', url: '/v1/delegations', token: lead })).statusCode,
    ).toBe(200);
    const end = (id: string) =>
      call('/v1/delegations/{id}/end', { method: 'POST', url: `/v1/delegations/${id}/end`, token: lead });
    expect((await end(made.json().id)).statusCode).toBe(200);
    expect((await end(made.json().id)).statusCode).toBe(409);
    expect((await end('dlg_missing')).statusCode).toBe(404);

    // SNS: a message from a topic signoff does not serve is refused before anything is fetched.
    const sns = (payload: object) =>
      call('/integrations/aws/sns', {
        method: 'POST',
        url: '/integrations/aws/sns',
        token: null,
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify(payload),
      });
    const envelope = {
      Type: 'Notification',
      MessageId: '6d4c3f2e-1b0a-4c9d-8e7f-6a5b4c3d2e1f',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:elsewhere',
      Message: '{}',
      Timestamp: '2026-01-01T00:00:00.000Z',
      SignatureVersion: '2',
      Signature: 'c2lnbmF0dXJl',
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
    };
    expect((await sns(envelope)).statusCode).toBe(403);
    expect((await sns({ ...envelope, Type: 'Gossip' })).statusCode).toBe(400);

    // GitHub and Slack: refused without their signatures (and here, without their settings).
    const github = await call('/integrations/github/webhook', {
      method: 'POST',
      url: '/integrations/github/webhook',
      token: null,
      headers: { 'x-github-event': 'deployment_protection_rule', 'x-github-delivery': 'f0e1d2c3-b4a5' },
      payload: { action: 'requested' },
    });
    expect(github.json().error.code).toBe('invalid_signature');
    const slack = await call('/integrations/slack/interactions', {
      method: 'POST',
      url: '/integrations/slack/interactions',
      token: null,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'payload=%7B%7D',
    });
    expect(slack.statusCode).toBe(404);

    // Deciding through a mailed link, as a script does: JSON in, JSON out, no credential.
    const byLink = (url: string, payload: object | string = { verdict: 'approve' }) =>
      call('/d/{token}', {
        method: 'POST',
        url,
        token: null,
        payload,
        headers: { accept: 'application/json' },
      });
    const fresh = async (overrides: Record<string, unknown> = {}) =>
      (await post(approvalBody({ notify: [], ...overrides }))).json().id as string;
    const single = await fresh();
    const leadLink = await linkFor(single, 'lead@example.com');
    expect((await byLink(leadLink, { verdict: 'maybe' })).statusCode).toBe(400);
    expect((await byLink(leadLink, JSON.stringify({ verdict: 'approve' }))).statusCode).toBe(415);
    expect((await byLink(leadLink, { verdict: 'approve', comment: 'x'.repeat(70_000) })).statusCode).toBe(
      413,
    );
    expect((await byLink(leadLink, { verdict: 'approve', comment: 'checked' })).json().status).toBe(
      'approved',
    );
    expect((await byLink(leadLink)).statusCode).toBe(410);
    const pair = await fresh({ approvers: ['lead@example.com', 'pm@example.com'], required: 1 });
    const pmLink = await linkFor(pair, 'pm@example.com');
    expect((await decide(pair, lead)).statusCode).toBe(201);
    expect((await byLink(pmLink)).json().error.code).toBe('already_decided');
    const quorum = await fresh({ approvers: ['lead@example.com', 'pm@example.com'], required: 2 });
    expect((await decide(quorum, lead)).statusCode).toBe(201);
    expect((await byLink(await linkFor(quorum, 'lead@example.com'))).json().error.code).toBe(
      'duplicate_decision',
    );
    expect((await byLink(await linkFor(quorum, 'stranger@example.com'))).json().error.code).toBe(
      'not_approver',
    );
    const own = await fresh({
      requester: 'lead@example.com',
      approvers: ['lead@example.com', 'pm@example.com'],
    });
    expect((await byLink(await linkFor(own, 'lead@example.com'))).json().error.code).toBe('self_approval');
    const short = await fresh({ timeout: '1h' });
    const shortLink = await linkFor(short, 'lead@example.com');
    h.advance(2 * 3600_000);
    try {
      expect((await byLink(shortLink)).json().error.code).toBe('link_expired');
    } finally {
      h.advance(-2 * 3600_000);
    }
    expect((await byLink(`/d/${'A'.repeat(43)}`)).json().error.code).toBe('link_not_found');
    expect((await byLink(`/d/${'A'.repeat(43)}`)).json().error.code).toBe('rate_limited');
    // A script reads every refusal of this operation: each one the document lists was seen.
    const linkCodes = documented4xxCodes('POST /d/{token}');
    expect(linkCodes).toEqual(
      expect.arrayContaining(['link_not_found', 'link_expired', 'link_used', 'rate_limited']),
    );
    for (const code of linkCodes)
      expect(seenCodes.has(`POST /d/{token} ${code}`), `POST /d/{token} never answered ${code}`).toBe(true);

    // Every operation of the document was issued.
    const all = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect([...seen].sort()).toEqual(all.sort());
    // Every error answer carries a request id, and every 4xx that the document lists was seen.
    for (const { res } of issued.filter((i) => i.res.statusCode >= 400))
      expect(res.json().error.requestId).toMatch(/^req_/);
  });

  it('serializes an approval without dropping anything the view holds', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({
        description: 'Release notes',
        link: 'https://ci.example.com/runs/42',
        metadata: { repository: 'web', nested: { list: [1, { deep: true }], none: null } },
        key: 'web/production',
        callback: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
      }),
    });
    expect(res.statusCode).toBe(201);
    const stored = await findApproval(h.signoff.services.db, res.json().id);
    if (!stored) throw new Error('the approval was not stored');
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(approvalView(stored, []))));
    const read = await h.api({ method: 'GET', url: `/v1/approvals/${stored.id}` });
    expect(read.json()).toEqual(res.json());
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc.js';

/**
 * A credential that may only create must not be able to open its own gate: every field of
 * the create body that loosens the gate needs `approvals:inline-policy` or a named policy.
 */

const POLICIES = `policies:
  docs-auto:
    stages:
      - name: docs
        type: rule
        rules:
          - when: "true"
            then: approve
            reason: the operator wrote this rule
  prod-deploy:
    stages:
      - type: human
        gates: [{ approvers: [lead@example.com] }]
`;

const PERMISSIONS = (issuer: string, audience: string) => `
issuers:
  - issuer: ${issuer}
    audience: ${audience}
rules:
  - name: ci jobs of acme, pinned to the production policy
    claims: { repository_owner: acme }
    permissions: [approvals:create, approvals:read]
    machine: true
    restrict:
      policies: [prod-deploy]
  - name: other machines
    scopes: [approvals:create]
    permissions: [approvals:create, approvals:read]
    machine: true
`;

let h: Harness;
let provider: TestProvider;
let createOnly: string;
let person: string;
let trusted: string;

beforeAll(async () => {
  provider = await startTestProvider();
  const dir = mkdtempSync(join(tmpdir(), 'signoff-gate-'));
  writeFileSync(join(dir, 'policies.yaml'), POLICIES);
  writeFileSync(join(dir, 'permissions.yaml'), PERMISSIONS(provider.issuer, provider.audience));
  h = await startHarness(
    {
      SIGNOFF_POLICIES: join(dir, 'policies.yaml'),
      SIGNOFF_PERMISSIONS: join(dir, 'permissions.yaml'),
      AWS_REGION: 'us-east-1',
      // AI stages need an endpoint to be accepted at all; with no workers it is never called.
      SIGNOFF_AI_URL: 'http://127.0.0.1:9/v1',
      SIGNOFF_AI_MODEL: 'test-model',
    },
    // Nothing is delivered: a refused request must not even queue a callback.
    { workers: false },
  );
  createOnly = await h.keyFor(null, ['approvals:create', 'approvals:read']);
  person = await h.keyFor('dev@example.com', ['approvals:create', 'approvals:read']);
  trusted = await h.keyFor(null, ['approvals:create', 'approvals:inline-policy']);
});
afterAll(async () => {
  await h?.close();
  await provider?.close();
});

const CODEPIPELINE = {
  type: 'codepipeline',
  pipelineName: 'web',
  stageName: 'Prod',
  actionName: 'Approve',
  token: 'pipeline-token',
};

/** Each field of a create body that loosens the gate, with the JSON pointers the refusal names. */
const LOOSENING: { name: string; body: Record<string, unknown>; paths: string[] }[] = [
  {
    name: 'a rule stage that approves (with a CodePipeline callback)',
    body: {
      approvers: undefined,
      stages: [{ name: 'r', type: 'rule', rules: [{ when: 'true', then: 'approve' }] }],
      callback: CODEPIPELINE,
    },
    paths: ['/callback', '/stages/0'],
  },
  {
    name: "a CodePipeline callback (resumed with signoff's own AWS role)",
    body: { callback: CODEPIPELINE },
    paths: ['/callback'],
  },
  {
    name: 'a token subject as approver (a machine can hold one)',
    body: { approvers: ['subject:ci-bot', 'lead@example.com'] },
    paths: ['/approvers/0'],
  },
  {
    name: 'an AI stage',
    body: { approvers: undefined, stages: [{ type: 'ai', mode: 'decide' }] },
    paths: ['/stages/0'],
  },
  {
    name: 'a human stage that approves on timeout',
    body: {
      approvers: undefined,
      stages: [
        { type: 'human', gates: [{ approvers: ['lead@example.com'] }], timeout: '1s', onTimeout: 'approve' },
      ],
    },
    paths: ['/stages/0/onTimeout'],
  },
  { name: 'allowSelfApproval', body: { allowSelfApproval: true }, paths: ['/allowSelfApproval'] },
  { name: 'notify: [] (nobody is told)', body: { notify: [] }, paths: ['/notify'] },
];

/** How many approvals and outbox messages exist: a refused request adds to neither. */
async function counts(): Promise<[number, number]> {
  const { db } = h.signoff.services;
  const approvals = await db.selectFrom('approvals').select('id').execute();
  const messages = await db.selectFrom('outbox').select('id').execute();
  return [approvals.length, messages.length];
}

describe('a create-only credential cannot loosen its own gate', () => {
  for (const { name, body, paths } of LOOSENING) {
    it(`refuses ${name} with 403 inline_policy_forbidden, for machines and people alike`, async () => {
      const before = await counts();
      for (const token of [createOnly, person]) {
        const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(body), token });
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('inline_policy_forbidden');
        expect(res.json().error.details.fields.map((f: { path: string }) => f.path)).toEqual(paths);
      }
      expect(await counts()).toEqual(before);
    });

    it(`accepts ${name} from a credential holding approvals:inline-policy`, async () => {
      const res = await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody(body),
        token: trusted,
      });
      expect(res.statusCode).toBe(201);
    });
  }

  it('names every loosening field of one request', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({
        approvers: undefined,
        allowSelfApproval: true,
        notify: [],
        stages: [
          { type: 'rule', rules: [{ when: 'true', then: 'approve' }] },
          {
            type: 'human',
            gates: [{ approvers: ['lead@example.com'] }],
            onTimeout: 'approve',
            timeout: '1h',
          },
        ],
      }),
      token: createOnly,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.details.fields.map((f: { path: string }) => f.path)).toEqual([
      '/allowSelfApproval',
      '/notify',
      '/stages/0',
      '/stages/1/onTimeout',
    ]);
  });

  it('still takes human-only gates, and a named policy the operator wrote, from a create-only credential', async () => {
    const human = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({
        approvers: undefined,
        stages: [
          { type: 'human', gates: [{ approvers: ['lead@example.com'] }], timeout: '1h', onTimeout: 'reject' },
        ],
      }),
      token: createOnly,
    });
    expect(human.statusCode).toBe(201);
    expect(human.json().status).toBe('pending');
    const named = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ approvers: undefined, policy: 'docs-auto' }),
      token: createOnly,
    });
    expect(named.statusCode).toBe(201);
    expect(named.json().status).toBe('approved');
  });
});

describe('a credential pinned to named policies', () => {
  it('creates only with the policies its rule names', async () => {
    const ci = await provider.machineToken({
      clientId: 'acme-ci',
      scopes: [],
      claims: { repository_owner: 'acme' },
    });
    const create = (body: Record<string, unknown>) =>
      h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(body), token: ci });

    const own = await create({ approvers: undefined, policy: 'prod-deploy' });
    expect(own.statusCode).toBe(201);
    for (const body of [
      { approvers: ['friend@example.com'] },
      { approvers: undefined, policy: 'docs-auto' },
      { approvers: undefined, stages: [{ type: 'human', gates: [{ approvers: ['friend@example.com'] }] }] },
    ]) {
      const res = await create(body);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('policy_not_allowed');
    }
  });

  it('stays pinned when another, unpinned rule matches the same token', async () => {
    const both = await provider.machineToken({
      clientId: 'acme-ci-with-scope',
      scopes: ['approvals:create'],
      claims: { repository_owner: 'acme' },
    });
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ approvers: ['friend@example.com'] }),
      token: both,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('policy_not_allowed');
  });

  it('refuses to start when a rule pins a policy the policies file does not define', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-gate-'));
    writeFileSync(join(dir, 'policies.yaml'), POLICIES);
    writeFileSync(
      join(dir, 'permissions.yaml'),
      PERMISSIONS(provider.issuer, provider.audience).replace(
        '[prod-deploy]',
        '[prod-deploy, no-such-policy]',
      ),
    );
    await expect(
      startHarness({
        SIGNOFF_POLICIES: join(dir, 'policies.yaml'),
        SIGNOFF_PERMISSIONS: join(dir, 'permissions.yaml'),
      }),
    ).rejects.toMatchObject({ code: 'invalid_input', details: { policies: ['no-such-policy'] } });
  });
});

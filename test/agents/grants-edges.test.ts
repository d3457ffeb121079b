import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebSession } from '../../src/sessions/web-sessions.js';
import { type GrantHarness, startGrantHarness } from '../helpers/grants.js';
import type { Harness } from '../helpers/harness.js';

// Standing grants at their edges: what a grant binds, two grants on one request, the approval
// it was granted on ending otherwise, identities spelled two ways, and the web form's numbers.

let h: Harness;
let setup: GrantHarness;
let agent: string;
let lead: string;
let sre: string;

beforeAll(async () => {
  setup = await startGrantHarness({
    SIGNOFF_PLUS_ADDRESS_DOMAINS: 'plus.example.com',
    SIGNOFF_DATABASE_POOL_SIZE: '8',
  });
  ({ h, agent, lead, sre } = setup);
});
afterAll(async () => setup?.close());

let n = 0;
/** An action no other test uses. */
function freshAction(tool = 'Bash') {
  n += 1;
  return { tool, arguments: { command: `kubectl delete pod web-${n}` } };
}

async function ask(action: unknown, token = agent, extra: Record<string, unknown> = {}) {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    token,
    payload: { title: 'Agent: restart web', policy: 'agent', action, ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

function decide(id: string, token: string, body: Record<string, unknown>) {
  return h.api({ method: 'POST', url: `/v1/approvals/${id}/decisions`, token, payload: body });
}

async function grantsOf(token: string) {
  const res = await h.api({ method: 'GET', url: '/v1/grants', token });
  expect(res.statusCode).toBe(200);
  return res.json().items as {
    id: string;
    approvalId: string;
    uses: number;
    maxUses: number;
    active: boolean;
  }[];
}

describe('what a grant binds', () => {
  it('is for the action: a request with other words, metadata or callback around it is still covered', async () => {
    const action = freshAction();
    const first = await ask(action, agent, { metadata: { env: 'staging' } });
    const ok = await decide(first.id, lead, { verdict: 'approve', grant: { uses: 1, for: '30m' } });
    expect(ok.statusCode).toBe(201);
    // Same action, but everything a person reads (and the callback it resumes) is new.
    const later = await ask(action, agent, {
      title: 'Drop the production database',
      description: 'Not what you approved',
      metadata: { env: 'production' },
      link: 'https://example.com/prod',
      callback: { type: 'webhook', url: 'http://127.0.0.1:9/resume-prod-deploy' },
    });
    // What the approver allowed is the action (docs/agents.md): the agent's words around it are its own.
    expect(later.status).toBe('approved');
    expect(later.decisions).toEqual([expect.objectContaining({ actor: 'lead@example.com', via: 'grant' })]);
  });

  it('is not for another credential of the same requester does not get the grant', async () => {
    const action = freshAction();
    const first = await ask(action);
    await decide(first.id, lead, { verdict: 'approve', grant: { uses: 3, for: '30m' } });
    const second = await h.keyFor('agent@example.com', ['approvals:create']);
    expect((await ask(action, second)).status).toBe('pending');
    expect((await ask(action)).status).toBe('approved');
  });

  it('gives its last use to exactly one of three racing creates', async () => {
    for (let round = 0; round < 3; round++) {
      const action = freshAction();
      const first = await ask(action);
      await decide(first.id, lead, { verdict: 'approve', grant: { uses: 1, for: '30m' } });
      const results = await Promise.all([ask(action), ask(action), ask(action)]);
      expect(results.filter((r) => r.status === 'approved')).toHaveLength(1);
      const [grant] = (await grantsOf(lead)).filter((g) => g.approvalId === first.id);
      expect(grant).toMatchObject({ uses: 1, maxUses: 1, active: false });
    }
  });

  it('never counts its granter twice: the seat it filled refuses their own vote', async () => {
    const action = freshAction('Deploy');
    const first = await ask(action, agent, { policy: 'pair' });
    await decide(first.id, sre, { verdict: 'approve' });
    await decide(first.id, lead, { verdict: 'approve', grant: { uses: 2, for: '30m' } });
    const next = await ask(action, agent, { policy: 'pair' });
    expect(next.status).toBe('pending');
    const again = await decide(next.id, lead, { verdict: 'approve' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('duplicate_decision');
  });

  it('with a second grant on the same request, both seats are filled', async () => {
    const action = freshAction('Deploy');
    const first = await ask(action, agent, { policy: 'pair' });
    expect(
      (await decide(first.id, lead, { verdict: 'approve', grant: { uses: 3, for: '30m' } })).statusCode,
    ).toBe(201);
    expect(
      (await decide(first.id, sre, { verdict: 'approve', grant: { uses: 3, for: '30m' } })).statusCode,
    ).toBe(201);
    // Both approvers allowed it again: the next identical request should be approved by both seats.
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      token: agent,
      payload: { title: 'Agent: restart web', policy: 'pair', action },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).toBe('approved');
  });

  it('approves nothing before the approval it was granted on is approved, nor after it was rejected', async () => {
    const action = freshAction('Deploy');
    const first = await ask(action, agent, { policy: 'pair' });
    await decide(first.id, lead, { verdict: 'approve', grant: { uses: 3, for: '30m' } });
    // The SRE has not decided yet: the lead's grant waits with the approval it came with.
    const meanwhile = await ask(action, agent, { policy: 'pair' });
    expect(meanwhile.decisions).toEqual([]);
    const rejected = await decide(first.id, sre, { verdict: 'reject', comment: 'no: wrong cluster' });
    expect(rejected.json().status).toBe('rejected');
    const [grant] = (await grantsOf(lead)).filter((g) => g.approvalId === first.id);
    expect(grant?.active).toBe(false);
    expect((await ask(action, agent, { policy: 'pair' })).decisions).toEqual([]);
  });
});

describe('who sees and ends a grant', () => {
  it('is listed to and revoked by its granter and requester however their addresses are spelled', async () => {
    const plusLead = await h.keyFor('lead+ops@plus.example.com', ['approvals:decide', 'approvals:read']);
    const plusAgent = await h.keyFor('agent+bot@plus.example.com', ['approvals:create', 'approvals:read']);
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      token: plusAgent,
      payload: { title: 'Agent', approvers: ['lead@plus.example.com'], action: freshAction() },
    });
    expect(created.statusCode).toBe(201);
    const ok = await decide(created.json().id, plusLead, {
      verdict: 'approve',
      grant: { uses: 2, for: '30m' },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const all = await grantsOf(h.adminKey);
    const grant = all.find((g) => g.approvalId === created.json().id);
    expect(grant).toBeDefined();
    const listedToGranter = (await grantsOf(plusLead)).some((g) => g.id === grant?.id);
    const listedToRequester = (await grantsOf(plusAgent)).some((g) => g.id === grant?.id);
    const byRequester = await h.api({
      method: 'POST',
      url: `/v1/grants/${grant?.id}/revoke`,
      token: plusAgent,
    });
    const byGranter = await h.api({ method: 'POST', url: `/v1/grants/${grant?.id}/revoke`, token: plusLead });
    expect({
      listedToGranter,
      listedToRequester,
      byRequester: byRequester.statusCode,
      byGranter: byGranter.statusCode,
    }).toEqual({ listedToGranter: true, listedToRequester: true, byRequester: 200, byGranter: 200 });
  });

  it('is as unknown to a stranger as a grant that does not exist', async () => {
    const first = await ask(freshAction());
    await decide(first.id, lead, { verdict: 'approve', grant: { uses: 1, for: '5m' } });
    const [grant] = (await grantsOf(lead)).filter((g) => g.approvalId === first.id);
    const existing = await h.api({ method: 'POST', url: `/v1/grants/${grant?.id}/revoke`, token: sre });
    const missing = await h.api({ method: 'POST', url: '/v1/grants/grt_nope/revoke', token: sre });
    expect([existing.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect(existing.json().error.message.replace(grant?.id ?? '', 'X')).toBe(
      missing.json().error.message.replace('grt_nope', 'X'),
    );
    expect((await grantsOf(sre)).map((g) => g.id)).not.toContain(grant?.id);
  });
});

describe('the web form', () => {
  it('refuses a grant of zero uses as the API does, and decides nothing', async () => {
    const first = await ask(freshAction());
    const secret = await startWebSession(h.signoff.services, {
      actor: 'lead@example.com',
      groups: [],
      grants: [],
    });
    const page = await h.signoff.app.inject({
      method: 'GET',
      url: `/approvals/${first.id}`,
      cookies: { signoff: secret },
    });
    expect(page.statusCode).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const csrfCookie = page.cookies.find((c) => c.name === 'signoff-csrf')?.value ?? '';
    const posted = await h.signoff.app.inject({
      method: 'POST',
      url: `/approvals/${first.id}/decisions`,
      cookies: { signoff: secret, 'signoff-csrf': csrfCookie },
      payload: { _csrf: csrf, verdict: 'approve', grant_uses: '0', grant_for: '15m' },
    });
    const made = (await grantsOf(lead)).filter((g) => g.approvalId === first.id);
    expect({ status: posted.statusCode, made: made.map((g) => g.maxUses) }).toEqual({
      status: 400,
      made: [],
    });
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${first.id}` })).json().status).toBe('pending');
  });
});

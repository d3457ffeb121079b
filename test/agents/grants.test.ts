import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/auth/secrets.js';
import { findBrokenLink } from '../../src/core/audit-chain.js';
import { listAudit, toChainedEvent } from '../../src/store/audit.js';
import { type GrantHarness, startGrantHarness } from '../helpers/grants.js';
import { type Harness, startHarness } from '../helpers/harness.js';

// An approver's "approve, and the same again": a standing grant. Each use is the granter's own
// approval through the one decision path, for the same requester, gate and action only.
const restart = { tool: 'Bash', arguments: { command: 'kubectl delete pod web-1' } };

let h: Harness;
let setup: GrantHarness;
let agent: string;
let otherAgent: string;
let lead: string;
let sre: string;

beforeAll(async () => {
  setup = await startGrantHarness();
  ({ h, agent, lead, sre } = setup);
  otherAgent = await h.keyFor('other-agent@example.com', ['approvals:create', 'approvals:read']);
});
afterAll(async () => setup?.close());

async function ask(action: unknown, token = agent, policy = 'agent') {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    token,
    payload: { title: 'Agent: restart web', policy, action },
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

function decide(id: string, token: string, body: Record<string, unknown>) {
  return h.api({ method: 'POST', url: `/v1/approvals/${id}/decisions`, token, payload: body });
}

async function auditTypes(id: string) {
  const res = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
  return res.json().items as { type: string; actor: string | null; data: Record<string, unknown> }[];
}

async function grants(token: string) {
  const res = await h.api({ method: 'GET', url: '/v1/grants', token });
  expect(res.statusCode).toBe(200);
  return res.json().items as Record<string, unknown>[];
}

describe('a standing grant', () => {
  it('approves the next 3 identical requests as its granter, audited as such; the 4th asks people', async () => {
    const first = await ask(restart);
    expect(first.status).toBe('pending');
    const approved = await decide(first.id, lead, {
      verdict: 'approve',
      comment: 'fine for the next three',
      grant: { uses: 3, for: '30m' },
    });
    expect(approved.statusCode).toBe(201);
    expect(approved.json().status).toBe('approved');
    const [grant] = (await grants(lead)).filter((g) => g.approvalId === first.id);
    expect(grant).toMatchObject({
      granter: 'lead@example.com',
      requester: 'agent@example.com',
      uses: 0,
      maxUses: 3,
    });

    for (let use = 1; use <= 3; use++) {
      const again = await ask({ arguments: restart.arguments, tool: 'Bash' });
      expect(again.status).toBe('approved');
      expect(again.decisions).toEqual([
        expect.objectContaining({ actor: 'lead@example.com', verdict: 'approve', via: 'grant' }),
      ]);
      const events = await auditTypes(again.id);
      expect(events.find((e) => e.type === 'grant.used')).toMatchObject({
        actor: 'lead@example.com',
        data: { grantId: grant?.id, use, maxUses: 3, grantedOn: first.id },
      });
    }
    const fourth = await ask(restart);
    expect(fourth.status).toBe('pending');
    expect(fourth.decisions).toEqual([]);

    const origin = await auditTypes(first.id);
    expect(origin.filter((e) => e.type === 'grant.created')).toHaveLength(1);
    expect(origin.filter((e) => e.type === 'grant.used').map((e) => e.data.use)).toEqual([1, 2, 3]);
    const [spent] = (await grants(agent)).filter((g) => g.id === grant?.id);
    expect(spent).toMatchObject({ uses: 3, active: false });
    // Events appended to the origin's chain from other approvals' transactions keep it whole.
    const chain = (await listAudit(h.signoff.services.db, first.id)).map(toChainedEvent);
    expect(findBrokenLink(chain, sha256Hex)).toBeUndefined();
  });

  it('holds only for the exact action, the same requester and the same gate', async () => {
    const first = await ask({ tool: 'Bash', arguments: { command: 'terraform apply -target=dns' } });
    await decide(first.id, lead, { verdict: 'approve', grant: { uses: 5, for: '30m' } });
    expect((await ask({ tool: 'Bash', arguments: { command: 'terraform apply' } })).status).toBe('pending');
    expect(
      (await ask({ tool: 'Bash', arguments: { command: 'terraform apply -target=dns' } }, otherAgent)).status,
    ).toBe('pending');
    expect(
      (await ask({ tool: 'Bash', arguments: { command: 'terraform apply -target=dns' } }, agent, 'pair'))
        .status,
    ).toBe('pending');
    expect((await ask({ tool: 'Bash', arguments: { command: 'terraform apply -target=dns' } })).status).toBe(
      'approved',
    );
  });

  it('of a tool covers its other calls, and counts as one seat of a quorum', async () => {
    const first = await ask({ tool: 'Deploy', arguments: { service: 'web' } }, agent, 'pair');
    await decide(first.id, sre, { verdict: 'approve' });
    const passed = await decide(first.id, lead, {
      verdict: 'approve',
      grant: { uses: 2, for: '30m', match: 'tool' },
    });
    expect(passed.json().status).toBe('approved');
    // The lead's seat is taken by the grant; the second seat is still the SRE's to give.
    const next = await ask({ tool: 'Deploy', arguments: { service: 'api' } }, agent, 'pair');
    expect(next.status).toBe('pending');
    expect(next.decisions).toEqual([expect.objectContaining({ actor: 'lead@example.com', via: 'grant' })]);
    expect((await decide(next.id, sre, { verdict: 'approve' })).json().status).toBe('approved');
  });

  it("is never the requester's to make, and is refused without deciding when it may not be made", async () => {
    // A credential that may decide, named as an approver of a policy that lets requesters approve.
    const selfish = await h.keyFor('agent@example.com', [
      'approvals:create',
      'approvals:decide',
      'approvals:inline-policy',
    ]);
    const own = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      token: selfish,
      payload: {
        title: 'Agent: my own',
        approvers: ['agent@example.com', 'lead@example.com'],
        allowSelfApproval: true,
        action: restart,
      },
    });
    expect(own.statusCode).toBe(201);
    const refused = await decide(own.json().id, selfish, {
      verdict: 'approve',
      grant: { uses: 1, for: '5m' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('grant_not_allowed');
    const after = await h.api({ method: 'GET', url: `/v1/approvals/${own.json().id}` });
    expect(after.json()).toMatchObject({ status: 'pending', decisions: [] });

    const pending = await ask(restart);
    for (const [grant, why] of [
      [{ uses: 6, for: '5m' }, /at most 5 uses/],
      [{ uses: 1, for: '2h' }, /at most 60 minutes/],
    ] as const) {
      const res = await decide(pending.id, lead, { verdict: 'approve', grant });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toMatchObject({
        code: 'grant_not_allowed',
        message: expect.stringMatching(why),
      });
    }
    const rejectWithGrant = await decide(pending.id, lead, {
      verdict: 'reject',
      grant: { uses: 1, for: '5m' },
    });
    expect(rejectWithGrant.statusCode).toBe(400);
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${pending.id}` })).json().decisions).toEqual([]);
  });

  it('ends at once when revoked, by its granter or requester, and says so on the chain', async () => {
    const first = await ask({ tool: 'Bash', arguments: { command: 'rm -rf /var/cache/web' } });
    await decide(first.id, lead, { verdict: 'approve', grant: { uses: 5, for: '30m' } });
    expect((await ask({ tool: 'Bash', arguments: { command: 'rm -rf /var/cache/web' } })).status).toBe(
      'approved',
    );
    const [grant] = (await grants(agent)).filter((g) => g.approvalId === first.id);
    // Someone it does not concern does not see it.
    const stranger = await h.api({ method: 'POST', url: `/v1/grants/${grant?.id}/revoke`, token: sre });
    expect(stranger.statusCode).toBe(404);
    const revoked = await h.api({ method: 'POST', url: `/v1/grants/${grant?.id}/revoke`, token: lead });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ active: false, uses: 1, revokedBy: 'lead@example.com' });
    expect((await ask({ tool: 'Bash', arguments: { command: 'rm -rf /var/cache/web' } })).status).toBe(
      'pending',
    );
    const again = await h.api({ method: 'POST', url: `/v1/grants/${grant?.id}/revoke`, token: agent });
    expect(again.statusCode).toBe(200);
    const events = (await auditTypes(first.id)).filter((e) => e.type === 'grant.revoked');
    expect(events).toEqual([
      expect.objectContaining({ actor: 'lead@example.com', data: { grantId: grant?.id, usesLeft: 4 } }),
    ]);
  });
});

describe('without SIGNOFF_GRANT_MAX_USES', () => {
  it('refuses a grant and decides nothing', async () => {
    const off = await startHarness({}, { workers: false });
    try {
      const created = await off.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: { title: 'Agent: restart', approvers: ['lead@example.com'], action: restart },
      });
      const key = await off.keyFor('lead@example.com', ['approvals:decide']);
      const res = await off.api({
        method: 'POST',
        url: `/v1/approvals/${created.json().id}/decisions`,
        token: key,
        payload: { verdict: 'approve', grant: { uses: 1, for: '5m' } },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toMatchObject({
        code: 'grant_not_allowed',
        message: expect.stringMatching(/SIGNOFF_GRANT_MAX_USES/),
      });
      expect(
        (await off.api({ method: 'GET', url: `/v1/approvals/${created.json().id}` })).json().status,
      ).toBe('pending');
    } finally {
      await off.close();
    }
  });
});

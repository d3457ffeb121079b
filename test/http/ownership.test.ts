import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

/** An approval belongs to whoever created it: supersede and cancel stay within that owner. */

let h: Harness;
let alice: string;
let bob: string;

beforeAll(async () => {
  h = await startHarness({}, { workers: false });
  alice = await h.keyFor(null, ['approvals:create', 'approvals:read']);
  bob = await h.keyFor(null, ['approvals:create', 'approvals:read']);
});
afterAll(async () => {
  await h.close();
});

async function create(token: string, overrides: Record<string, unknown> = {}) {
  const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(overrides), token });
  expect(res.statusCode).toBe(201);
  return res.json();
}

async function statusOf(id: string): Promise<string> {
  return (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json().status;
}

describe('ownership', () => {
  it("supersedes only the same owner's approvals with the key", async () => {
    const bobs = await create(bob, { key: 'web/production' });
    const alices = await create(alice, { key: 'web/production' });
    expect(await statusOf(bobs.id)).toBe('pending');
    const newer = await create(alice, { key: 'web/production' });
    expect(await statusOf(alices.id)).toBe('cancelled');
    expect(await statusOf(bobs.id)).toBe('pending');
    expect(await statusOf(newer.id)).toBe('pending');
  });

  it('lets only the owner or an admin cancel', async () => {
    const approval = await create(alice);
    const refused = await h.api({ method: 'POST', url: `/v1/approvals/${approval.id}/cancel`, token: bob });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('not_owner');
    expect(await statusOf(approval.id)).toBe('pending');
    const own = await h.api({ method: 'POST', url: `/v1/approvals/${approval.id}/cancel`, token: alice });
    expect(own.statusCode).toBe(200);
    expect(own.json().status).toBe('cancelled');

    const other = await create(alice);
    const byAdmin = await h.api({ method: 'POST', url: `/v1/approvals/${other.id}/cancel` });
    expect(byAdmin.statusCode).toBe(200);
  });

  it('keeps exactly one pending approval when 50 creates race with one key, and never answers 5xx', async () => {
    const key = `race/${Math.random().toString(36).slice(2)}`;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h.api({
          method: 'POST',
          url: '/v1/approvals',
          payload: approvalBody({ title: `Race ${i}`, key }),
          token: alice,
        }),
      ),
    );
    expect(answers.map((a) => a.statusCode).filter((s) => s !== 201)).toEqual([]);
    const rows = await h.signoff.services.db
      .selectFrom('approvals')
      .select(['id', 'status'])
      .where('supersede_key', '=', key)
      .execute();
    expect(rows).toHaveLength(50);
    expect(rows.filter((r) => r.status === 'pending')).toHaveLength(1);
    expect(rows.filter((r) => r.status === 'cancelled')).toHaveLength(49);
  });
});

describe('self-approval sees through spellings', () => {
  it('refuses a plus-addressed or punycode spelling of the requester', async () => {
    const folding = await startHarness({ SIGNOFF_PLUS_ADDRESS_DOMAINS: 'example.com' }, { workers: false });
    try {
      const machine = await folding.keyFor(null, ['approvals:create']);
      const cases = [
        { requester: 'alice+deploys@example.com', approver: 'alice@example.com' },
        { requester: 'dev@bücher.example', approver: 'dev@xn--bcher-kva.example' },
      ];
      for (const { requester, approver } of cases) {
        const created = await folding.api({
          method: 'POST',
          url: '/v1/approvals',
          payload: approvalBody({ requester, approvers: [approver, 'lead@example.com'] }),
          token: machine,
        });
        expect(created.statusCode).toBe(201);
        const key = await folding.keyFor(approver, ['approvals:decide']);
        const res = await folding.api({
          method: 'POST',
          url: `/v1/approvals/${created.json().id}/decisions`,
          payload: { verdict: 'approve' },
          token: key,
        });
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('self_approval');
      }
    } finally {
      await folding.close();
    }
  });
});

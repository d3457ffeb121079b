import { describe, expect, it } from 'vitest';
import { cancel, decide, expire, linkExpiry, newApproval } from '../../src/core/approval.js';
import type { Approval, Verdict } from '../../src/core/model.js';
import { evaluateStages } from '../../src/core/stages.js';

const T0 = new Date('2026-01-01T00:00:00Z');
let seq = 0;
const id = () => `dec_${++seq}`;
const noRules = () => {
  throw new Error('these policies have no rule stages');
};

function approval(
  approvers: string[],
  required: number,
  extra: { requester?: string; allowSelfApproval?: boolean } = {},
) {
  return newApproval(
    {
      title: 'Deploy',
      requester: extra.requester ?? 'dev@example.com',
      policy: {
        stages: [{ name: 'approval', type: 'human', gates: [{ approvers, required }] }],
        allowSelfApproval: extra.allowSelfApproval ?? false,
      },
      timeoutMs: 3_600_000,
    },
    T0,
    'apr_1',
  );
}

function vote(a: Approval, actor: string, verdict: Verdict = 'approve', groups: string[] = []) {
  return decide(
    a,
    { actor: { id: actor, groups }, verdict, via: 'api' },
    new Date(T0.getTime() + 1000),
    id(),
    noRules,
  );
}

function ok(result: ReturnType<typeof vote>) {
  if (!result.ok) throw new Error(`expected success, got ${result.code}`);
  return result;
}

describe('approval state machine', () => {
  it('needs two distinct approvals for a 2-of-3 quorum', () => {
    const a = approval(['a@x.io', 'b@x.io', 'c@x.io'], 2);
    const first = ok(vote(a, 'a@x.io'));
    expect(first.approval.status).toBe('pending');
    const second = ok(vote(first.approval, 'B@X.io'));
    expect(second.approval.status).toBe('approved');
    expect(second.approval.decidedAt).not.toBeNull();
  });

  it('counts a person once', () => {
    const a = ok(vote(approval(['a@x.io', 'b@x.io'], 2), 'a@x.io')).approval;
    const again = vote(a, 'A@x.io');
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.code).toBe('duplicate_decision');
  });

  it('refuses the requester approving their own request', () => {
    const a = approval(['dev@example.com', 'b@x.io'], 1);
    const result = vote(a, 'dev@example.com');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe('self_approval');
  });

  it('lets the requester approve when the policy allows self-approval', () => {
    const a = approval(['dev@example.com'], 1, { allowSelfApproval: true });
    expect(ok(vote(a, 'dev@example.com')).approval.status).toBe('approved');
  });

  it('rejects on any reject, even after approvals', () => {
    const a = ok(vote(approval(['a@x.io', 'b@x.io', 'c@x.io'], 2), 'a@x.io')).approval;
    const rejected = ok(vote(a, 'c@x.io', 'reject'));
    expect(rejected.approval.status).toBe('rejected');
    expect(rejected.approval.reason).toContain('c@x.io');
  });

  it('refuses someone who is not an approver', () => {
    const result = vote(approval(['a@x.io'], 1), 'mallory@x.io');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe('not_approver');
  });

  it('matches group approvers by the groups the actor carries', () => {
    const a = approval(['group:leads'], 1);
    const without = vote(a, 'a@x.io');
    expect(without.ok).toBe(false);
    expect(ok(vote(a, 'a@x.io', 'approve', ['leads'])).approval.status).toBe('approved');
  });

  it('never changes a terminal approval', () => {
    const approved = ok(vote(approval(['a@x.io', 'b@x.io'], 1), 'a@x.io')).approval;
    for (const result of [
      vote(approved, 'b@x.io', 'reject'),
      expire(approved, new Date(T0.getTime() + 10 * 3_600_000)),
      cancel(approved, T0, 'admin'),
    ]) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.code).toBe('already_decided');
    }
  });

  it('expires only once the timeout has passed', () => {
    const a = approval(['a@x.io'], 1);
    expect(expire(a, new Date(T0.getTime() + 1000)).ok).toBe(false);
    const expired = expire(a, new Date(T0.getTime() + 3_600_000));
    expect(expired.ok && expired.approval.status).toBe('expired');
  });

  it('refuses a decision after the timeout even before the sweeper ran', () => {
    const a = approval(['a@x.io'], 1);
    const late = decide(
      a,
      { actor: { id: 'a@x.io', groups: [] }, verdict: 'approve', via: 'api' },
      new Date(T0.getTime() + 3_600_000),
      id(),
      noRules,
    );
    expect(late.ok).toBe(false);
  });

  it('reports gate progress', () => {
    const a = ok(vote(approval(['a@x.io', 'b@x.io', 'c@x.io'], 2), 'b@x.io')).approval;
    const [stage] = evaluateStages(a);
    expect(stage?.status).toBe('pending');
    expect(stage?.gates[0]?.approvals).toEqual(['b@x.io']);
  });

  it('never lets a link outlive its approval', () => {
    const a = approval(['a@x.io'], 1);
    expect(linkExpiry(a, T0, 60_000).getTime()).toBe(T0.getTime() + 60_000);
    expect(linkExpiry(a, T0, 86_400_000).getTime()).toBe(a.expiresAt.getTime());
  });

  it('lets a link work until the deadline when no maximum is set', () => {
    const a = approval(['a@x.io'], 1);
    expect(linkExpiry(a, T0, undefined).getTime()).toBe(a.expiresAt.getTime());
  });
});

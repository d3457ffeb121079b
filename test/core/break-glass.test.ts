import { describe, expect, it } from 'vitest';
import { newApproval } from '../../src/core/approval.js';
import { breakGlass, mayReview } from '../../src/core/break-glass.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-12-07T10:00:00Z');

function approval() {
  return newApproval(
    {
      title: 'Hotfix',
      requester: 'dev@example.com',
      requesterToken: { issuer: 'https://id.example.com', subject: 'dev-42' },
      policy: {
        stages: [
          {
            name: 'review',
            type: 'human',
            gates: [
              { approvers: ['lead@example.com', 'oncall@example.com'], required: 1 },
              { approvers: ['group:sre'], required: 1 },
            ],
          },
        ],
        allowSelfApproval: false,
      },
      timeoutMs: 24 * HOUR,
    },
    NOW,
    'apr_01TEST',
  );
}

describe('break-glass, as a pure rule', () => {
  it('asks whom the open gates asked to review, except whoever broke it', () => {
    const result = breakGlass(
      approval(),
      { id: 'oncall@example.com', groups: [] },
      ' outage ',
      NOW,
      24 * HOUR,
    );
    if (!result.ok) throw new Error(result.message);
    expect(result.approval).toMatchObject({
      status: 'approved',
      reason: 'Break-glass by oncall@example.com: outage',
    });
    expect(result.broken).toMatchObject({
      reviewers: ['lead@example.com', 'group:sre'],
      reviewDueAt: new Date(NOW.getTime() + 24 * HOUR),
    });
    const glass = result.broken;
    const after = result.approval;
    expect(mayReview(after, glass, { id: 'oncall@example.com', groups: [] })).toMatchObject({
      ok: false,
      code: 'self_approval',
    });
    expect(mayReview(after, glass, { id: 'ops@example.com', groups: ['sre'] })).toEqual({ ok: true });
    expect(mayReview(after, glass, { id: 'someone@example.com', groups: [] })).toMatchObject({
      ok: false,
      code: 'not_approver',
    });
  });

  it('is never the requester’s, under any spelling or through their token', () => {
    const asRequester = breakGlass(approval(), { id: 'DEV@example.com', groups: [] }, 'x', NOW, HOUR);
    expect(asRequester).toMatchObject({ ok: false, code: 'self_approval' });
    const throughToken = breakGlass(
      approval(),
      { id: 'other-name@example.com', groups: [], issuer: 'https://id.example.com', subject: 'dev-42' },
      'x',
      NOW,
      HOUR,
    );
    expect(throughToken).toMatchObject({ ok: false, code: 'self_approval' });
  });

  it('needs a reason and a pending approval', () => {
    expect(breakGlass(approval(), { id: 'oncall@example.com', groups: [] }, '  ', NOW, HOUR)).toMatchObject({
      ok: false,
      code: 'invalid_input',
    });
    const late = new Date(NOW.getTime() + 25 * HOUR);
    expect(breakGlass(approval(), { id: 'oncall@example.com', groups: [] }, 'x', late, HOUR)).toMatchObject({
      ok: false,
      code: 'already_decided',
    });
  });
});

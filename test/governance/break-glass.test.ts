import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { eventually, startReceiver } from '../helpers/receiver.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { approvalPageText } from '../helpers/web.js';

/*
 * Break-glass on a 2-of-3 gate: the callback resumes at once, the webhook and the page say so
 * with the reason, whom the gate asked review it (never whoever broke it, never the requester),
 * an overdue review shows in the list and in /metrics; and only its own permission allows it.
 */

const HOUR = 3_600_000;

let h: Harness;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let oncall: string;
let requesterGlass: string;
let reviewer: string;
let skipped: string;

beforeAll(async () => {
  [smtp, receiver] = await Promise.all([startSmtpServer(), startReceiver()]);
  h = await startHarness({
    SIGNOFF_SMTP_URL: smtp.url,
    SIGNOFF_BREAK_GLASS_REVIEW: '24h',
    SIGNOFF_METRICS_TOKEN: 'metrics-token-0123456789abcdefghijklmnopqrstuv',
  });
  oncall = await h.keyFor('oncall@example.com', ['approvals:break-glass', 'approvals:read']);
  requesterGlass = await h.keyFor('dev@example.com', [
    'approvals:break-glass',
    'approvals:create',
    'approvals:read',
  ]);
  reviewer = await h.keyFor('lead@example.com', ['approvals:read', 'approvals:decide']);
  skipped = await h.keyFor('pm@example.com', ['approvals:read', 'approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  await Promise.all([smtp?.close(), receiver?.stop()]);
});

async function create(token?: string) {
  const title = `Hotfix ${Math.random().toString(36).slice(2, 8)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    token,
    payload: {
      title,
      requester: token ? undefined : 'dev@example.com',
      approvers: ['lead@example.com', 'pm@example.com', 'sre@example.com'],
      required: 2,
      callback: { type: 'webhook', url: receiver.url },
      // The admin may ask without mailing the gate; a plain credential may not loosen it.
      ...(token ? {} : { notify: [] }),
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id as string, title };
}

const breakGlass = (id: string, token: string, reason = 'checkout is down: the fix cannot wait') =>
  h.api({ method: 'POST', url: `/v1/approvals/${id}/break-glass`, token, payload: { reason } });

const review = (id: string, token: string, verdict: 'confirm' | 'flag') =>
  h.api({ method: 'POST', url: `/v1/approvals/${id}/break-glass/review`, token, payload: { verdict } });

describe('break-glass', () => {
  it('approves a 2-of-3 gate at once, loudly, and opens an after-review for whom it skipped', async () => {
    const { id, title } = await create();
    // One of three has approved: the gate still needs another.
    const lead = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: reviewer,
      payload: { verdict: 'approve' },
    });
    expect(lead.statusCode).toBe(201);

    // Neither the admin key (admin does not imply it) nor a decider may break the glass.
    expect((await breakGlass(id, h.adminKey)).statusCode).toBe(403);
    expect((await breakGlass(id, reviewer)).statusCode).toBe(403);

    const broken = await breakGlass(id, oncall);
    expect(broken.statusCode, broken.body).toBe(200);
    expect(broken.json()).toMatchObject({
      status: 'approved',
      reason: 'Break-glass by oncall@example.com: checkout is down: the fix cannot wait',
      breakGlass: {
        by: 'oncall@example.com',
        reason: 'checkout is down: the fix cannot wait',
        stage: 'approval',
        // Whom the gate still asked: lead approved already, so pm and sre review it.
        reviewers: ['pm@example.com', 'sre@example.com'],
      },
    });

    // The callback resumes at once, and says break-glass with the reason.
    const decided = await eventually(() => {
      const found = receiver.received.find(
        (r) => JSON.parse(r.body).type === 'approval.decided' && JSON.parse(r.body).data.id === id,
      );
      expect(found).toBeDefined();
      return JSON.parse(found?.body ?? '{}');
    });
    expect(decided.data.breakGlass).toMatchObject({
      by: 'oncall@example.com',
      reason: 'checkout is down: the fix cannot wait',
    });

    // The page says it first, with the reason.
    const text = await approvalPageText(h, 'pm@example.com', id);
    expect(text).toContain(
      'Approved by break-glass: oncall@example.com approved it at once, without the gate of stage “approval”. Reason: checkout is down: the fix cannot wait.',
    );

    // Whom the gate asked are mailed and asked to review.
    const mails = await smtp.waitForMails((m) => m.subject === `Break-glass: ${title}`, 2);
    expect(mails.map((m) => m.to).sort()).toEqual(['pm@example.com', 'sre@example.com']);
    expect(mails[0]?.text).toContain('Reason: checkout is down: the fix cannot wait');

    // The review waits in the list, for them and for a reader of everything.
    const listed = await h.api({ method: 'GET', url: '/v1/break-glass?status=open', token: skipped });
    expect(listed.json().items).toEqual([
      expect.objectContaining({
        approvalId: id,
        status: 'open',
        overdue: false,
        brokenBy: 'oncall@example.com',
      }),
    ]);
    // Whoever broke it may not review it.
    const own = await review(id, oncall, 'confirm');
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('self_approval');

    // Past its deadline it is overdue, in the list and in the metrics; a reminder goes out.
    h.advance(25 * HOUR);
    try {
      const overdue = await h.api({ method: 'GET', url: '/v1/break-glass?overdue=true', token: h.adminKey });
      expect(
        overdue.json().items.map((r: { approvalId: string; overdue: boolean }) => [r.approvalId, r.overdue]),
      ).toEqual([[id, true]]);
      const metrics = await h.api({
        method: 'GET',
        url: '/metrics',
        token: null,
        headers: { authorization: 'Bearer metrics-token-0123456789abcdefghijklmnopqrstuv' },
      });
      expect(metrics.body).toMatch(/^signoff_break_glass_reviews_overdue 1$/m);
      expect(metrics.body).toMatch(/^signoff_break_glass_total\{policy="inline"\} 1$/m);
      await smtp.waitForMails((m) => m.subject === `Overdue review: Break-glass: ${title}`, 2);

      // Who approved already was not skipped; someone it skipped confirms it, once.
      expect((await review(id, reviewer, 'confirm')).json().error.code).toBe('not_approver');
      const confirmed = await review(id, skipped, 'confirm');
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      expect(confirmed.json()).toMatchObject({
        status: 'confirmed',
        reviewedBy: 'pm@example.com',
        overdue: false,
      });
      expect((await review(id, skipped, 'flag')).json().error.code).toBe('already_decided');
    } finally {
      h.advance(-25 * HOUR);
    }
    const trail = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
    expect(trail.json().items.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['approval.break_glass', 'approval.approved', 'break_glass.reviewed']),
    );
  });

  it('is never the requester’s, and needs a reason', async () => {
    const { id } = await create(requesterGlass);
    const own = await breakGlass(id, requesterGlass);
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('self_approval');
    const noReason = await breakGlass(id, oncall, '');
    expect(noReason.statusCode).toBe(400);
    const after = await h.api({ method: 'GET', url: `/v1/approvals/${id}` });
    expect(after.json()).toMatchObject({ status: 'pending', breakGlass: null });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually } from '../helpers/receiver.js';
import { type SlackMessage, type SlackStandIn, slackEnv, startSlack } from '../helpers/slack.js';

let h: Harness;
let slack: SlackStandIn;
let lead: string;

beforeAll(async () => {
  slack = await startSlack({ users: [{ id: 'U01LEAD', email: 'lead@example.com' }] });
  // Retries may wait as long as Slack's Retry-After asks (the outbox caps it at the maximum).
  h = await startHarness({ ...slackEnv(slack), SIGNOFF_RETRY_MAX: '10s' });
  lead = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  await slack?.close();
});

const headerOf = (m: SlackMessage) =>
  (m.blocks[0] as { type: string; text?: { text: string } } | undefined)?.text?.text ?? '';
const hasButtons = (m: SlackMessage) => m.blocks.some((b) => (b as { type: string }).type === 'actions');
const textOf = (m: SlackMessage) => JSON.stringify(m.blocks);

async function create(overrides: Record<string, unknown> = {}) {
  const title = `Deploy ${Math.random().toString(36).slice(2)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ title, slack: { channel: '#deploys' }, ...overrides }),
  });
  expect(res.statusCode).toBe(201);
  return { approval: res.json(), title };
}

async function posted(title: string, count = 1) {
  return eventually(() => {
    const found = slack.messages.filter((m) => headerOf(m) === title && !m.threadTs);
    expect(found).toHaveLength(count);
    return found;
  });
}

async function decideAsLead(id: string, verdict: 'approve' | 'reject' = 'approve') {
  const res = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    token: lead,
    payload: { verdict, comment: 'checked the canary' },
  });
  expect(res.statusCode).toBe(201);
}

/** The thread replies under one message. */
const repliesTo = (message: SlackMessage) => slack.messages.filter((m) => m.threadTs === message.ts);

describe('every change updates every Slack message', () => {
  it('shows a decision made through the API, with who decided and their comment, and replies in the thread', async () => {
    const { approval, title } = await create();
    const [message] = await posted(title);
    if (!message) throw new Error('no message');
    expect(hasButtons(message)).toBe(true);
    await decideAsLead(approval.id);
    await eventually(() => {
      expect(hasButtons(message)).toBe(false);
      expect(textOf(message)).toContain(
        'lead@example.com approved stage approval via api: checked the canary',
      );
      expect(repliesTo(message).map((r) => r.text)).toEqual([
        expect.stringContaining('lead@example.com approved (stage approval, via api): checked the canary'),
      ]);
    });
  });

  it('shows a cancel, an expiry and a supersede', async () => {
    const cancelled = await create();
    const superseded = await create({ key: 'web/production' });
    const expiring = await create({ timeout: '1h' });
    const [c, s, e] = [
      ...(await posted(cancelled.title)),
      ...(await posted(superseded.title)),
      ...(await posted(expiring.title)),
    ];
    if (!c || !s || !e) throw new Error('three messages expected');
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${cancelled.approval.id}/cancel`,
      payload: { reason: 'wrong build' },
    });
    expect(res.statusCode).toBe(200);
    const newer = await create({ key: 'web/production' });
    h.advance(2 * 60 * 60 * 1000);
    await eventually(() => {
      expect(textOf(c)).toContain('Cancelled. Cancelled by admin: wrong build');
      expect(textOf(s)).toContain(`superseded by ${newer.approval.id}`);
      expect(textOf(e)).toContain('Expired.');
      for (const m of [c, s, e]) expect(textOf(m)).toContain('Stage \\"approval\\", not decided');
      for (const m of [c, s, e]) {
        expect(hasButtons(m)).toBe(false);
        expect(repliesTo(m)).toHaveLength(1);
      }
    });
  });

  it('updates the first stage when it passes and posts the next one', async () => {
    const { approval, title } = await create({
      approvers: undefined,
      stages: [
        { name: 'review', type: 'human', gates: [{ approvers: ['lead@example.com'] }] },
        { name: 'release', type: 'human', gates: [{ approvers: ['pm@example.com'] }] },
      ],
    });
    const [first] = await posted(title);
    if (!first) throw new Error('no message');
    await decideAsLead(approval.id);
    const [, second] = await posted(title, 2);
    if (!second) throw new Error('no second message');
    await eventually(() => {
      expect(hasButtons(first)).toBe(false);
      expect(textOf(first)).toContain('Stage \\"review\\" (1 of 2) passed; the approval goes on.');
      expect(repliesTo(first).map((r) => r.text)).toEqual([expect.stringContaining('Stage review passed.')]);
    });
    expect(hasButtons(second)).toBe(true);
    expect(JSON.stringify(second.blocks)).toContain('"s\\":\\"release\\"');
  });

  it("waits out Slack's 429 Retry-After before the update arrives", async () => {
    const { approval, title } = await create();
    const [message] = await posted(title);
    if (!message) throw new Error('no message');
    slack.failNext('chat.update', { ratelimited: 2 });
    await decideAsLead(approval.id);
    const updates = await slack.waitForCalls(
      (c) => c.method === 'chat.update' && c.args.ts === message.ts,
      2,
    );
    const [limited, delivered] = updates;
    expect(limited?.status).toBe(429);
    expect(delivered?.ok).toBe(true);
    expect((delivered?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    await eventually(() => expect(textOf(message)).toContain('Approved'));
  });

  it('delivers the update once Slack is back after being down', async () => {
    const { approval, title } = await create();
    const [message] = await posted(title);
    if (!message) throw new Error('no message');
    await slack.stop();
    try {
      await decideAsLead(approval.id, 'reject');
      // The decision stands while Slack is away; the outbox keeps trying.
      expect((await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json().status).toBe(
        'rejected',
      );
      await eventually(async () => {
        const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
        expect(
          audit.items.filter((e: { type: string }) => e.type === 'notification.failed').length,
        ).toBeGreaterThan(1);
      });
    } finally {
      await slack.start();
    }
    await eventually(() => {
      expect(hasButtons(message)).toBe(false);
      expect(textOf(message)).toContain('Rejected');
    });
  });
});

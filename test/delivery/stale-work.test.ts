import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer } from '../helpers/ai.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { type SlackStandIn, slackEnv, startSlack } from '../helpers/slack.js';

// Work queued for an approval (a mail, a Slack post, a reminder, an AI review) may fall due
// after the approval has moved on. It must then do nothing, and count as done: not fail, not
// be retried, not act on what no longer waits.
const HOUR = 3_600_000;

let h: Harness;
let slack: SlackStandIn;
let chat: Awaited<ReturnType<typeof startChatServer>>;

beforeAll(async () => {
  slack = await startSlack();
  chat = await startChatServer(() => ({
    verdict: { decision: 'approve', confidence: 0.99, rationale: 'ok' },
  }));
  h = await startHarness(
    { ...slackEnv(slack), SIGNOFF_AI_URL: chat.url, SIGNOFF_AI_MODEL: 'test-model' },
    // Workers off: each test runs the dispatcher itself, after it has moved the approval on.
    { workers: false },
  );
});
afterAll(async () => {
  await h.close();
  await slack.close();
  await chat.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(body) });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

async function cancel(id: string): Promise<void> {
  const res = await h.api({ method: 'POST', url: `/v1/approvals/${id}/cancel`, payload: {} });
  expect(res.statusCode).toBe(200);
}

/** Delivers everything due now. */
async function deliverDue(): Promise<void> {
  while ((await h.signoff.dispatcher.runOnce()) > 0);
}

async function outbox(id: string, kind: string) {
  return h.signoff.services.db
    .selectFrom('outbox')
    .select(['status', 'attempts', 'last_error'])
    .where('approval_id', '=', id)
    .where('kind', '=', kind)
    .execute();
}

async function linksOf(id: string): Promise<number> {
  const rows = await h.signoff.services.db
    .selectFrom('links')
    .select('token_hash')
    .where('approval_id', '=', id)
    .execute();
  return rows.length;
}

async function auditTypes(id: string): Promise<string[]> {
  const res = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
  return res.json().items.map((e: { type: string }) => e.type);
}

const done = { status: 'delivered', attempts: 1, last_error: null };

describe('work queued for an approval that has moved on', () => {
  it('a mail, a Slack post and a reminder for a cancelled approval send nothing, and are done', async () => {
    const id = await create({
      title: 'Cancelled before anyone heard',
      stages: [
        {
          name: 'leads',
          type: 'human',
          gates: [{ approvers: ['lead@example.com'] }],
          remindAfter: '1h',
        },
      ],
      approvers: undefined,
      slack: { channel: '#deploys' },
    });
    await cancel(id);
    h.advance(HOUR + 60_000);
    await deliverDue();

    expect(await outbox(id, 'email')).toEqual([done]);
    expect(await linksOf(id)).toBe(0);
    expect(await outbox(id, 'slack-post')).toEqual([done]);
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    expect(await outbox(id, 'timer')).toEqual([done]);
    expect(await auditTypes(id)).not.toContain('approval.reminded');
  });

  it('a mail for an approval past its expiry, not yet expired by the sweeper, sends nothing', async () => {
    const id = await create({ title: 'Ran out before the mail went', timeout: '1h' });
    h.advance(HOUR);
    await deliverDue();

    expect(await outbox(id, 'email')).toEqual([done]);
    expect(await linksOf(id)).toBe(0);
    const view = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
    expect(view.status).toBe('pending');
  });

  it('an AI review for a stage that no longer waits asks no model and records nothing', async () => {
    const id = await create({
      title: 'Cancelled before the model was asked',
      stages: [
        { name: 'ai', type: 'ai', mode: 'decide' },
        { name: 'leads', type: 'human', gates: [{ approvers: ['lead@example.com'] }] },
      ],
      approvers: undefined,
    });
    await cancel(id);
    await deliverDue();

    expect(await outbox(id, 'review')).toEqual([done]);
    expect(chat.requests).toEqual([]);
    const view = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
    expect(view.stages[0].result ?? null).toBeNull();
  });
});

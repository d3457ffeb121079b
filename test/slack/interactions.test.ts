import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually, startReceiver } from '../helpers/receiver.js';
import {
  buttonClick,
  rejectSubmission,
  type SlackMessage,
  type SlackStandIn,
  signedInteraction,
  slackEnv,
  startSlack,
} from '../helpers/slack.js';

let h: Harness;
let slack: SlackStandIn;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

const LEAD = 'U01LEAD';
const PM = 'U02PM';
const DEV = 'U03DEV';
const OTHER = 'U04OTHER';
// The lead's address, but set by another organisation's admins: seen through Slack Connect.
const FOREIGN = 'U05FOREIGN';
const GUEST = 'U06GUEST';

beforeAll(async () => {
  slack = await startSlack({
    users: [
      { id: LEAD, email: 'Lead@Example.com' },
      { id: PM, email: 'pm@example.com' },
      { id: DEV, email: 'dev@example.com' },
      { id: OTHER, email: 'other@example.com' },
      { id: FOREIGN, email: 'lead@example.com', team: 'T0999' },
      { id: GUEST, email: 'lead@example.com', stranger: true },
    ],
  });
  receiver = await startReceiver();
  h = await startHarness(slackEnv(slack));
});
afterAll(async () => {
  await h?.close();
  await slack?.close();
  await receiver?.stop();
});

const headerOf = (m: SlackMessage) =>
  (m.blocks[0] as { type: string; text?: { text: string } } | undefined)?.text?.text ?? '';
const hasButtons = (m: SlackMessage) => m.blocks.some((b) => (b as { type: string }).type === 'actions');
const textOf = (m: SlackMessage) => JSON.stringify(m.blocks);

/** Creates an approval that posts to #deploys and to each approver, and waits for all its messages. */
async function createPosted(overrides: Record<string, unknown> = {}, count = 3) {
  const title = `Deploy ${Math.random().toString(36).slice(2)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({
      title,
      requester: 'dev@example.com',
      approvers: ['lead@example.com', 'pm@example.com'],
      slack: { channel: '#deploys', directMessages: true },
      ...overrides,
    }),
  });
  expect(res.statusCode).toBe(201);
  const messages = await eventually(() => {
    const found = slack.messages.filter((m) => headerOf(m) === title && !m.threadTs);
    expect(found).toHaveLength(count);
    return found;
  });
  return { approval: res.json(), title, messages };
}

async function click(message: SlackMessage, user: string, action: 'signoff.approve' | 'signoff.reject') {
  const signed = signedInteraction(buttonClick(message, user, action));
  return h.api({ method: 'POST', url: '/integrations/slack/interactions', token: null, ...signed });
}

async function approvalOf(id: string) {
  return (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
}

describe('Slack messages', () => {
  it('posts to the channel and, found by email, to each approver, with buttons that carry only ids', async () => {
    const { approval, messages } = await createPosted();
    expect(messages.map((m) => m.channel).sort()).toEqual([
      'CDEPLOYS',
      `D${LEAD.slice(1)}`,
      `D${PM.slice(1)}`,
    ]);
    const lookups = slack.calls.filter((c) => c.method === 'users.lookupByEmail').map((c) => c.args.email);
    expect(lookups).toEqual(expect.arrayContaining(['lead@example.com', 'pm@example.com']));
    for (const message of messages) {
      expect(hasButtons(message)).toBe(true);
      const actions = message.blocks.find((b) => (b as { type: string }).type === 'actions') as {
        elements: { value: string }[];
      };
      for (const button of actions.elements)
        expect(JSON.parse(button.value)).toEqual({ a: approval.id, s: 'approval' });
      expect(textOf(message)).toContain('dev@example.com');
    }
    // The Web API was called as Slack's client calls it: a form body with the bot token.
    const post = slack.calls.find((c) => c.method === 'chat.postMessage');
    expect(post?.contentType).toContain('application/x-www-form-urlencoded');
  });
});

describe('deciding in Slack', () => {
  it('approves from the button: the callback fires once and every message shows the outcome', async () => {
    const { approval, messages } = await createPosted({
      callback: { type: 'webhook', url: receiver.url },
    });
    const channelMessage = messages.find((m) => m.channel === 'CDEPLOYS') as SlackMessage;
    const res = await click(channelMessage, LEAD, 'signoff.approve');
    expect(res.statusCode).toBe(200);
    const after = await approvalOf(approval.id);
    expect(after.status).toBe('approved');
    expect(after.decisions).toMatchObject([{ actor: 'lead@example.com', verdict: 'approve', via: 'slack' }]);
    await eventually(() => {
      for (const message of messages) {
        expect(hasButtons(message)).toBe(false);
        expect(textOf(message)).toContain('Approved');
        expect(textOf(message)).toContain('lead@example.com approved');
      }
      const replies = slack.messages.filter((m) => messages.some((p) => p.ts === m.threadTs));
      expect(replies).toHaveLength(3);
      expect(replies[0]?.text).toContain('lead@example.com approved');
    });
    const decided = () =>
      receiver.received.filter((r) => r.body.includes(approval.id) && r.body.includes('approval.decided'));
    await eventually(() => expect(decided()).toHaveLength(1));
    // Every queued message of the approval delivered: no second callback is on its way.
    await eventually(async () => {
      const pending = (await h.api({ method: 'GET', url: '/v1/outbox?status=pending' })).json();
      expect(pending.items.filter((m: { approvalId: string }) => m.approvalId === approval.id)).toEqual([]);
    });
    expect(decided()).toHaveLength(1);
  });

  it('rejects through the reason modal; the submission decides with the reason as comment', async () => {
    // An approval that requires a reason to reject still opens the modal that asks for it.
    const { approval, messages } = await createPosted({ requireRejectComment: true });
    const dm = messages.find((m) => m.channel === `D${PM.slice(1)}`) as SlackMessage;
    const res = await click(dm, PM, 'signoff.reject');
    expect(res.statusCode).toBe(200);
    expect((await approvalOf(approval.id)).status).toBe('pending');
    const opened = await slack.waitForCalls(
      (c) => c.method === 'views.open' && String(c.args.view).includes(approval.id),
    );
    const view = JSON.parse(String(opened[0]?.args.view)) as { private_metadata: string };
    // A reason that is not text (a lone surrogate, a control character) is sent back to the modal.
    for (const bad of ['broken \ud800', 'bell \u0007']) {
      const refused = await h.api({
        method: 'POST',
        url: '/integrations/slack/interactions',
        token: null,
        ...signedInteraction(rejectSubmission(view.private_metadata, PM, bad)),
      });
      expect(refused.statusCode).toBe(200);
      expect(refused.json()).toMatchObject({
        response_action: 'errors',
        errors: { reason: expect.any(String) },
      });
      expect((await approvalOf(approval.id)).decisions).toEqual([]);
    }
    const signed = signedInteraction(rejectSubmission(view.private_metadata, PM, 'breaks checkout *now*'));
    const submitted = await h.api({
      method: 'POST',
      url: '/integrations/slack/interactions',
      token: null,
      ...signed,
    });
    expect(submitted.statusCode).toBe(200);
    const after = await approvalOf(approval.id);
    expect(after.status).toBe('rejected');
    expect(after.decisions).toMatchObject([
      { actor: 'pm@example.com', verdict: 'reject', via: 'slack', comment: 'breaks checkout *now*' },
    ]);
    await eventually(() => {
      for (const message of messages) expect(textOf(message)).toContain('Rejected');
    });
  });

  it("changes nothing on a click of a non-approver, the requester, or another workspace's user with an approver's email", async () => {
    const { approval, messages } = await createPosted();
    const channelMessage = messages.find((m) => m.channel === 'CDEPLOYS') as SlackMessage;
    for (const user of [OTHER, DEV, FOREIGN, GUEST]) {
      const before = slack.calls.filter(
        (c) => c.method === 'chat.postEphemeral' && c.args.user === user,
      ).length;
      for (const action of ['signoff.approve', 'signoff.reject'] as const) {
        const res = await click(channelMessage, user, action);
        expect(res.statusCode).toBe(200);
      }
      const told = await slack.waitForCalls(
        (c) => c.method === 'chat.postEphemeral' && c.args.user === user,
        before + 2,
      );
      for (const call of told) {
        expect(call.args.text).toBe('You are not an approver of this stage.');
        expect(call.args.channel).toBe('CDEPLOYS');
      }
    }
    // No reject modal for them either.
    expect(
      slack.calls.filter((c) => c.method === 'views.open' && String(c.args.view).includes(approval.id)),
    ).toEqual([]);
    const after = await approvalOf(approval.id);
    expect(after.status).toBe('pending');
    expect(after.decisions).toEqual([]);
    // A submission forged for a modal they never got does not decide either.
    const forged = signedInteraction(
      rejectSubmission(JSON.stringify({ a: approval.id, s: 'approval' }), DEV, 'mine'),
    );
    const res = await h.api({
      method: 'POST',
      url: '/integrations/slack/interactions',
      token: null,
      ...forged,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      response_action: 'errors',
      errors: { reason: 'You are not an approver of this stage.' },
    });
    expect((await approvalOf(approval.id)).decisions).toEqual([]);
  });

  it('refuses a forged signature, a wrong secret and a stale timestamp; a replay has no second effect', async () => {
    const { approval, messages } = await createPosted();
    const message = messages.find((m) => m.channel === 'CDEPLOYS') as SlackMessage;
    const payload = buttonClick(message, LEAD, 'signoff.approve');
    const post = (signed: { headers: Record<string, string>; payload: string }) =>
      h.api({ method: 'POST', url: '/integrations/slack/interactions', token: null, ...signed });

    const good = signedInteraction(payload);
    const forged = { ...good, headers: { ...good.headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` } };
    const tampered = { ...good, payload: good.payload.replace('signoff.approve', 'signoff.reject') };
    const wrongSecret = signedInteraction(payload, { secret: 'not-the-signing-secret-0123456789' });
    const stale = signedInteraction(payload, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const unsigned = { ...good, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    for (const attempt of [forged, tampered, wrongSecret, stale, unsigned]) {
      const res = await post(attempt);
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('invalid_signature');
    }
    expect((await approvalOf(approval.id)).decisions).toEqual([]);

    expect((await post(good)).statusCode).toBe(200);
    const replay = await post(good);
    expect(replay.statusCode).toBe(409);
    expect(replay.json().error.code).toBe('replayed');
    const after = await approvalOf(approval.id);
    expect(after.status).toBe('approved');
    expect(after.decisions).toHaveLength(1);
  });

  it('counts a second click of the same approver once', async () => {
    const { approval, messages } = await createPosted({ required: 2 });
    const [first, second] = messages;
    if (!first || !second) throw new Error('two messages expected');
    expect((await click(first, LEAD, 'signoff.approve')).statusCode).toBe(200);
    expect((await click(second, LEAD, 'signoff.approve')).statusCode).toBe(200);
    const after = await approvalOf(approval.id);
    expect(after.status).toBe('pending');
    expect(after.decisions).toHaveLength(1);
    const told = await slack.waitForCalls(
      (c) => c.method === 'chat.postEphemeral' && String(c.args.text).includes('already'),
    );
    expect(told.length).toBeGreaterThan(0);
  });
});

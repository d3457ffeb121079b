import { afterAll, beforeAll, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually } from '../helpers/receiver.js';
import { type SlackMessage, type SlackStandIn, slackEnv, startSlack } from '../helpers/slack.js';
import { linkIn, startSmtpServer } from '../helpers/smtp.js';

let h: Harness;
let slack: SlackStandIn;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

beforeAll(async () => {
  slack = await startSlack({ users: [{ id: 'U01LEAD', email: 'lead@example.com' }] });
  smtp = await startSmtpServer();
  h = await startHarness({
    ...slackEnv(slack),
    SIGNOFF_SMTP_URL: smtp.url,
    // Nothing is found by polling within the test: an update can only come from the wake-up
    // the decision's commit gives the outbox, which is what keeps Slack within seconds.
    SIGNOFF_POLL_INTERVAL: '10m',
  });
});
afterAll(async () => {
  await h?.close();
  await slack?.close();
  await smtp?.close();
});

const headerOf = (m: SlackMessage) =>
  (m.blocks[0] as { type: string; text?: { text: string } } | undefined)?.text?.text ?? '';

it('updates the Slack message as soon as the approval is decided through a mailed link', async () => {
  const title = `Deploy ${Math.random().toString(36).slice(2)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ title, slack: { channel: '#deploys' } }),
  });
  expect(res.statusCode).toBe(201);
  const [mail] = await smtp.waitForMails((m) => m.subject.includes(title));
  if (!mail) throw new Error('no mail');
  const message = await eventually(() => {
    const found = slack.messages.find((m) => headerOf(m) === title);
    expect(found).toBeDefined();
    return found as SlackMessage;
  });
  const decided = await h.api({
    method: 'POST',
    url: new URL(linkIn(mail)).pathname,
    token: null,
    payload: 'verdict=approve&comment=looks+good',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(decided.statusCode).toBe(200);
  await eventually(() => {
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('Approved.');
    expect(text).toContain('lead@example.com approved stage approval via link: looks good');
    expect(message.blocks.some((b) => (b as { type: string }).type === 'actions')).toBe(false);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeSlackText, renderSlackMessage } from '../../src/channels/slack-blocks.js';
import { loadConfig } from '../../src/config.js';
import { newApproval } from '../../src/core/approval.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually } from '../helpers/receiver.js';
import { type SlackMessage, type SlackStandIn, slackEnv, startSlack } from '../helpers/slack.js';

const HOUR = 3_600_000;
const NASTY = '<!channel> please <https://evil.example|click> *bold* _it_ ~gone~ `code` & <@U0ADMIN>';

let h: Harness;
let slack: SlackStandIn;
let dir: string;

beforeAll(async () => {
  slack = await startSlack({
    users: [
      { id: 'U01LEAD', email: 'lead@example.com' },
      { id: 'U02PM', email: 'pm@example.com' },
      // Accounts Slack finds by email whose click would decide nothing.
      { id: 'U91FOREIGN', email: 'foreign@example.com', team: 'T0999' },
      { id: 'U92CONNECT', email: 'connect@example.com', stranger: true },
      { id: 'U93GONE', email: 'gone@example.com', deleted: true },
      { id: 'U94BOT', email: 'bot@example.com', isBot: true },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'signoff-slack-'));
  writeFileSync(
    join(dir, 'policies.yaml'),
    `policies:
  release:
    stages:
      - name: leads
        type: human
        gates:
          - { approvers: [group:tech-leads, lead@example.com] }
        slack:
          channel: "#releases"
          groups: { tech-leads: "#tech-leads" }
`,
  );
  h = await startHarness({ ...slackEnv(slack), SIGNOFF_POLICIES: join(dir, 'policies.yaml') });
});
afterAll(async () => {
  await h?.close();
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const headerOf = (m: SlackMessage) =>
  (m.blocks[0] as { type: string; text?: { text: string } } | undefined)?.text?.text ?? '';

async function create(payload: Record<string, unknown>, token?: string) {
  const title = `Deploy ${Math.random().toString(36).slice(2)}`;
  const res = await h.api({ method: 'POST', url: '/v1/approvals', token, payload: { ...payload, title } });
  expect(res.statusCode, res.body).toBe(201);
  return { approval: res.json(), title };
}

async function posted(title: string, count = 1) {
  return eventually(() => {
    const found = slack.messages.filter((m) => headerOf(m) === title && !m.threadTs);
    expect(found).toHaveLength(count);
    return found;
  });
}

/** Every text object in a message's blocks, however deep. */
function textObjects(value: unknown): { type: string; text: string }[] {
  if (Array.isArray(value)) return value.flatMap(textObjects);
  if (!value || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own =
    (object.type === 'plain_text' || object.type === 'mrkdwn') && typeof object.text === 'string'
      ? [object as { type: string; text: string }]
      : [];
  return [...own, ...Object.values(object).flatMap(textObjects)];
}

describe('request text in Slack', () => {
  it('shows mentions, links and formatting from the request as plain text', async () => {
    const { title } = await create({
      ...approvalBody(),
      description: NASTY,
      metadata: { note: NASTY },
      slack: { channel: '#deploys' },
    });
    const [message] = await posted(title);
    if (!message) throw new Error('no message');
    const texts = textObjects(message.blocks);
    // Nothing Slack would read as markup: every text object is plain_text, but for signoff's own
    // deadline, in Slack's date token so each reader sees their own time zone.
    expect(texts.filter((t) => t.type !== 'plain_text').map((t) => t.text)).toEqual([
      expect.stringMatching(
        /^Decide by <!date\^\d+\^\{date_short_pretty\} at \{time\}\|\w{3} \d+ \w{3} \d{4}, \d\d:\d\d UTC>$/,
      ),
    ]);
    const withRequestText = texts.filter((t) => t.text.includes('please'));
    expect(withRequestText.length).toBeGreaterThanOrEqual(2);
    for (const t of withRequestText) {
      expect(t.text).not.toMatch(/[<>]/);
      expect(t.text).toContain('&lt;!channel&gt; please &lt;https://evil.example|click&gt; *bold*');
      expect(t.text).toContain('&amp; &lt;@U0ADMIN&gt;');
    }
    // The notification text is escaped too, and posted with markup off.
    const call = slack.calls.find(
      (c) => c.method === 'chat.postMessage' && String(c.args.blocks).includes(title),
    );
    expect(call?.args.mrkdwn).toBe('false');
    expect(call?.args.link_names).toBe('false');
    expect(String(call?.args.text)).not.toMatch(/[<>]/);
  });

  it('escapes what Slack reads as control characters, and only those', () => {
    expect(escapeSlackText('a & b < c > d *e*')).toBe('a &amp; b &lt; c &gt; d *e*');
    const approval = newApproval(
      {
        title: '<!here> *ship*',
        description: null,
        policy: {
          stages: [
            { name: 'approval', type: 'human', gates: [{ approvers: ['a@example.com'], required: 1 }] },
          ],
          allowSelfApproval: false,
        },
        timeoutMs: HOUR,
      },
      new Date('2026-01-01T00:00:00Z'),
      'apr_01TEST',
    );
    const { text, blocks } = renderSlackMessage(approval, 'approval');
    expect(text).toBe('Approval needed: &lt;!here&gt; *ship*');
    expect(textObjects(blocks)[0]).toEqual({
      type: 'plain_text',
      text: '&lt;!here&gt; *ship*',
      emoji: false,
    });
  });
});

describe('where Slack messages go', () => {
  it("posts a named policy's stage to its channel and to the channel of its group approvers", async () => {
    const { title } = await create({ policy: 'release' });
    const messages = await posted(title, 2);
    expect(messages.map((m) => m.channel).sort()).toEqual(['CRELEASES', 'CTECHLEADS']);
  });

  it('lets a credential that may not loosen the gate ask for Slack: it adds no approver', async () => {
    const creator = await h.keyFor('ci@example.com', ['approvals:create']);
    const { approval, title } = await create(
      { ...approvalBody(), slack: { channel: '#deploys', directMessages: true } },
      creator,
    );
    await posted(title, 2);
    expect(approval.stages[0].gates[0].approvers).toEqual(['lead@example.com']);
  });

  it('gives up on a direct message to someone Slack does not know, and still mails them', async () => {
    const { approval } = await create({
      ...approvalBody({ approvers: ['stranger@example.com'] }),
      slack: { directMessages: true },
    });
    await eventually(async () => {
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
      const types = audit.items.map((e: { type: string }) => e.type);
      expect(types).toContain('notification.dead_lettered');
      expect(types).toContain('notification.sent');
    });
    const lookups = slack.calls.filter(
      (c) => c.method === 'users.lookupByEmail' && c.args.email === 'stranger@example.com',
    );
    expect(lookups).toHaveLength(1);
    // The waiting side learns that this approver was never told on Slack.
    const read = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(read.notificationFailures).toEqual([
      expect.objectContaining({ channel: 'slack', to: 'stranger@example.com' }),
    ]);
  });

  it('sends no direct message to an account whose click would not count, as if Slack had no one', async () => {
    // Another workspace, a Slack Connect stranger, a deactivated account, a bot: Slack finds each
    // by email, but their profile email proves nothing here, so the approval is not theirs to see.
    const refused = ['foreign@example.com', 'connect@example.com', 'gone@example.com', 'bot@example.com'];
    const { approval } = await create({
      ...approvalBody({ approvers: ['lead@example.com', ...refused] }),
      slack: { directMessages: true },
    });
    await eventually(async () => {
      const read = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
      expect(read.notificationFailures.map((f: { to: string }) => f.to).sort()).toEqual([...refused].sort());
      expect(read.notificationFailures).toEqual(
        refused.map(() => expect.objectContaining({ channel: 'slack' })),
      );
    });
    // The approver of this workspace got theirs; nobody else was sent the approval.
    await eventually(() =>
      expect(
        slack.messages.filter((m) => m.channel === 'D01LEAD' && m.text.includes(approval.title)),
      ).toHaveLength(1),
    );
    for (const id of ['U91FOREIGN', 'U92CONNECT', 'U93GONE', 'U94BOT'])
      expect(slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === id)).toEqual([]);
    for (const email of refused)
      expect(
        slack.calls.filter((c) => c.method === 'users.lookupByEmail' && c.args.email === email),
      ).toHaveLength(1);
  });

  it('refuses a Slack channel that is not a channel id or #name', async () => {
    for (const channel of ['https://evil.example', '<!channel>', 'deploys', '#Deploys']) {
      const res = await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody({ slack: { channel } }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
    }
  });

  it('sends reminders to the thread and escalations by direct message', async () => {
    const { title } = await create({
      stages: [
        {
          type: 'human',
          gates: [{ approvers: ['lead@example.com'] }],
          remindAfter: '1h',
          escalateAfter: '2h',
          escalateTo: ['pm@example.com'],
          slack: { channel: '#deploys', directMessages: true },
        },
      ],
    });
    const messages = await posted(title, 2);
    const channelMessage = messages.find((m) => m.channel === 'CDEPLOYS') as SlackMessage;
    h.advance(HOUR + 1000);
    await eventually(() => {
      const replies = slack.messages.filter((m) => m.threadTs === channelMessage.ts);
      expect(replies.map((r) => r.text)).toContain('Reminder: stage human still waits for lead@example.com.');
    });
    h.advance(HOUR);
    const all = await posted(title, 3);
    expect(all.map((m) => m.channel)).toContain('D02PM');
    await eventually(() => {
      const replies = slack.messages.filter((m) => m.threadTs === channelMessage.ts);
      expect(replies.map((r) => r.text)).toContain('Escalated: pm@example.com may now decide stage human.');
    });
  });
});

describe('configuration', () => {
  it('needs both the bot token and the signing secret', () => {
    expect(() => loadConfig({ SIGNOFF_SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SIGNOFF_SLACK_SIGNING_SECRET/);
    expect(() => loadConfig({ SIGNOFF_SLACK_SIGNING_SECRET: 's' })).toThrow(/SIGNOFF_SLACK_BOT_TOKEN/);
    const config = loadConfig({ SIGNOFF_SLACK_BOT_TOKEN: 'xoxb-1', SIGNOFF_SLACK_SIGNING_SECRET: 's' });
    expect(config.slackApiUrl).toBe('https://slack.com/api/');
  });

  it('refuses Slack in a request when Slack is not configured', async () => {
    const plain = await startHarness();
    try {
      const res = await plain.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody({ slack: { channel: '#deploys' } }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
      const click = await plain.api({
        method: 'POST',
        url: '/integrations/slack/interactions',
        token: null,
        payload: 'payload=%7B%7D',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(click.statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

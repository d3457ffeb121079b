import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startWebHarness, type WebHarness } from '../helpers/browser.js';
import { approvalBody } from '../helpers/harness.js';
import { runCli, startCli } from '../helpers/process.js';
import { eventually, startReceiver } from '../helpers/receiver.js';
import { type SlackStandIn, slackEnv, startSlack } from '../helpers/slack.js';
import { linkIn, type ReceivedMail, startSmtpServer } from '../helpers/smtp.js';

/*
 * One approval, every surface that shows it to a person: they name the same gates, count in
 * the same words, say who is still asked in each stage, and give the deadline with its zone.
 */

let browser: Browser;
let h: WebHarness;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let slack: SlackStandIn;

beforeAll(async () => {
  [browser, smtp, slack] = await Promise.all([launchBrowser(), startSmtpServer(), startSlack()]);
  // Workers off: the lead's approval lands before any message is written, so all show it.
  h = await startWebHarness({ SIGNOFF_SMTP_URL: smtp.url, ...slackEnv(slack) }, { workers: false });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await smtp?.close();
  await slack?.close();
});

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The deadline as the server words it: "Wed 9 Dec 2026, 20:48 UTC". */
function utcWords(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[at.getUTCDay()]} ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}, ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;
}

/** What every surface must say, in exactly these words. */
const GATE_LINES = [
  'Gate "tech": 1 of 2 approvals · approved by lead@example.com · still asked: sre@example.com',
  'Gate "product": 0 of 1 approval · still asked: pm@example.com',
  'Gate: 0 of 1 approval · will ask: cto@example.com',
];
const STAGES = ['Stage "review" (1 of 2)', 'Stage "release" (2 of 2)'];

function expectTheFacts(surface: string, text: string) {
  for (const fact of [...GATE_LINES, ...STAGES]) expect(text, `${surface} says ${fact}`).toContain(fact);
}

describe('every surface tells the same truth', () => {
  it('the page, the link page, the inbox card, the mail, Slack and signoff wait', async () => {
    const title = `Ship the release ${Math.random().toString(36).slice(2, 8)}`;
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: {
        title,
        requester: 'dev@example.com',
        timeout: '2d',
        slack: { channel: '#deploys' },
        stages: [
          {
            name: 'review',
            type: 'human',
            gates: [
              { name: 'tech', approvers: ['lead@example.com', 'sre@example.com'], required: 2 },
              { name: 'product', approvers: ['pm@example.com'] },
            ],
          },
          { name: 'release', type: 'human', gates: [{ approvers: ['cto@example.com'] }] },
        ],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id: string = created.json().id;
    const deadline = new Date(created.json().expiresAt);
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const approved = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(approved.statusCode, approved.body).toBe(201);
    for (let round = 0; round < 5; round++) if ((await h.signoff.dispatcher.runOnce()) === 0) break;

    // The mail, both parts.
    const mail = smtp.mails.find((m) => m.to === 'sre@example.com' && m.subject.includes(title));
    if (!mail) throw new Error(`no mail to sre@example.com: ${smtp.mails.map((m) => m.to).join(', ')}`);
    expectTheFacts('the text mail', mail.text);
    expect(mail.text).toContain(`Decide by: ${utcWords(deadline)}`);
    const mailHtml = mail.html.replace(/&quot;/g, '"').replace(/&#39;/g, "'");
    expectTheFacts('the HTML mail', mailHtml);
    expect(mailHtml).toContain(utcWords(deadline));

    // Slack: the same lines, and the deadline in Slack's date token with the UTC words as fallback.
    const message = slack.messages.find((m) => m.text.includes(title));
    if (!message) throw new Error('no Slack message');
    const slackText = JSON.stringify(message.blocks).replace(/\\"/g, '"');
    expectTheFacts('Slack', slackText);
    expect(slackText).toContain(
      `<!date^${Math.floor(deadline.getTime() / 1000)}^{date_short_pretty} at {time}|${utcWords(deadline)}>`,
    );

    // The pages, in a browser in Berlin: the script shows the deadline in the reader's own zone, named.
    const context = await h.signedIn(browser, 'sre@example.com');
    const berlin = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
    await berlin.addCookies(await context.cookies());
    const page = await berlin.newPage();
    const berlinTime = deadline.toLocaleString('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
    });
    for (const [surface, url] of [
      ['the approval page', `${h.url}/approvals/${id}`],
      ['the decision-link page', linkIn(mail as ReceivedMail)],
      ['the inbox card', `${h.url}/`],
    ] as const) {
      await page.goto(url);
      const main = page.locator('main');
      const text = (
        await (surface === 'the inbox card' ? main.locator('ul.items li') : main).innerText()
      ).replace(/\s+/g, ' ');
      expectTheFacts(surface, text);
      const time = (await main.locator('time').first().innerText()).trim();
      expect(time, `${surface} gives the deadline in Berlin time`).toContain(berlinTime);
      expect(time, `${surface} names the zone`).toMatch(/\b(CET|CEST|GMT\+[12])$/);
    }
    await berlin.close();
    await context.close();

    // signoff wait: the first answer shows where it stands, then it gives up (exit 3) as asked.
    const waited = await runCli(['wait', id, '--timeout', '1s'], {
      SIGNOFF_URL: h.url,
      SIGNOFF_TOKEN: h.adminKey,
    });
    expect(waited.code).toBe(3);
    expectTheFacts('signoff wait', waited.stderr);
    expect(waited.stderr).toContain(`decide by ${utcWords(deadline)}`);
  });
});

describe('what deciding does', () => {
  it('names what waits before, and says whether it was told after', async () => {
    const receiver = await startReceiver();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const context = await h.signedIn(browser, 'lead@example.com');
    const page = await context.newPage();
    const effect = async (id: string) => {
      await page.goto(`${h.url}/approvals/${id}`);
      return (await page.locator('#status').innerText()).replace(/\s+/g, ' ');
    };
    const create = async (extra: Record<string, unknown>) => {
      const res = await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody({ notify: [], ...extra }),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    try {
      const plain = await create({});
      // Asked with the admin key: its identity, the bare word "admin", is not shown as a person's name.
      expect(await effect(plain)).toContain('Requested by the admin key');
      expect(await effect(plain)).toContain('What deciding does: Nothing waits on it now');
      const wait = startCli(['wait', plain, '--timeout', '2m'], {
        SIGNOFF_URL: h.url,
        SIGNOFF_TOKEN: h.adminKey,
      });
      await eventually(() => expect(h.signoff.services.waits.count(plain)).toBe(1));
      expect(await effect(plain)).toContain(
        'What deciding does: Answers the signoff wait (or long poll) that waits on it now.',
      );
      await h.api({ method: 'POST', url: `/v1/approvals/${plain}/cancel`, payload: {} });
      expect((await wait.done).code).toBe(2);

      const agent = await create({ action: { tool: 'Bash', arguments: { command: 'make deploy' } } });
      expect(await effect(agent)).toContain(
        'Answers the agent that asked: it waits to take exactly this action.',
      );

      const host = `127.0.0.1:${receiver.port}`;
      const hooked = await create({ callback: { type: 'webhook', url: `http://${host}/hook` } });
      expect(await effect(hooked)).toContain(`What deciding does: Tells ${host} (webhook).`);
      const decided = await h.api({
        method: 'POST',
        url: `/v1/approvals/${hooked}/decisions`,
        token: lead,
        payload: { verdict: 'approve' },
      });
      expect(decided.statusCode, decided.body).toBe(201);
      expect(await effect(hooked)).toContain(`What deciding did: Telling ${host} (webhook) now.`);
      for (let round = 0; round < 5; round++) if ((await h.signoff.dispatcher.runOnce()) === 0) break;
      expect(receiver.received.map((r) => JSON.parse(r.body).type)).toContain('approval.decided');
      expect(await effect(hooked)).toMatch(
        new RegExp(`What deciding did: Told ${host} \\(webhook\\) at \\w{3} \\d+`),
      );
    } finally {
      await context.close();
      await receiver.stop();
    }
  });
});

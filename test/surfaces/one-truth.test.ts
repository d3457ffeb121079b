import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startWebHarness, type WebHarness } from '../helpers/browser.js';
import { runCli } from '../helpers/process.js';
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

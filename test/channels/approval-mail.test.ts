import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { linkIn, type ReceivedMail, startSmtpServer } from '../helpers/smtp.js';
import { decodeEntities } from '../helpers/web.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpServer();
  // Workers off: the test delivers what is due itself, so it knows which mails exist when.
  // Links last at most an hour, so a renewed link can be asked for while the approval waits.
  h = await startHarness(
    { SIGNOFF_SMTP_URL: smtp.url, SIGNOFF_INSTANCE_NAME: 'signoff (staging)', SIGNOFF_LINK_TTL: '1h' },
    { workers: false },
  );
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

/** Delivers everything due now, including what the deliveries queue. */
async function deliverDue() {
  for (let round = 0; round < 5; round++) if ((await h.signoff.dispatcher.runOnce()) === 0) break;
}

function mailTo(title: string, to: string, subjectStart = 'Approval needed:'): ReceivedMail[] {
  return smtp.mails.filter(
    (m) => m.subject.includes(title) && m.to === to && m.subject.startsWith(subjectStart),
  );
}

async function create(body: Record<string, unknown>) {
  const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function decideAs(id: string, actor: string, verdict: 'approve' | 'reject') {
  const key = await h.keyFor(actor, ['approvals:decide']);
  const res = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    token: key,
    payload: { verdict },
  });
  expect(res.statusCode, res.body).toBe(201);
}

/** What a reader sees of an HTML part: the text without tags, entities decoded, spaces collapsed. */
function visibleText(html: string): string {
  return decodeEntities(
    html
      .replace(/<style[\s\S]*?<\/style>|<title>[\s\S]*?<\/title>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&nbsp;/g, ' '),
  ).replace(/\s+/g, ' ');
}

/** The `<a>` elements of an HTML part: what they say and where they go. */
function anchors(html: string): { text: string; href: string; tag: string }[] {
  return [...html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/g)].map((m) => ({
    tag: m[1] ?? '',
    href: /href="([^"]*)"/.exec(m[1] ?? '')?.[1]?.replace(/&amp;/g, '&') ?? '',
    text: visibleText(m[2] ?? '').trim(),
  }));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "26 Nov 2026, 15:55 UTC" for an ISO instant, written out independently of the code under test. */
function utcDay(iso: string): string {
  const [date = '', time = ''] = iso.split('T');
  const [year, month, day] = date.split('-').map(Number);
  return `${day} ${MONTHS[(month ?? 1) - 1]} ${year}, ${time.slice(0, 5)} UTC`;
}

describe('the approval mail', () => {
  it('says the deadline, the stage, each gate with how many are needed and who else is asked, and why', async () => {
    const title = `Ship <b>v2</b> & more ${Math.random().toString(36).slice(2)}`;
    const approval = await create({
      title,
      requester: 'dev@example.com',
      timeout: '2d',
      stages: [
        { name: 'qa', type: 'human', gates: [{ approvers: ['qa@example.com'] }] },
        {
          name: 'production',
          type: 'human',
          gates: [
            {
              name: 'leads',
              approvers: ['lead@example.com', 'lead2@example.com', 'lead3@example.com'],
              required: 2,
            },
            { name: 'security', approvers: ['sec@example.com', 'group:security'] },
          ],
        },
      ],
    });
    await deliverDue();
    await decideAs(approval.id, 'qa@example.com', 'approve');
    // lead2 approves before the mails of the second stage go out: the others' mails say so.
    await decideAs(approval.id, 'lead2@example.com', 'approve');
    await deliverDue();
    const [mail] = mailTo(title, 'lead@example.com');
    if (!mail) throw new Error(`no mail to lead@example.com; got ${smtp.mails.map((m) => m.to).join(', ')}`);
    expect(mailTo(title, 'lead2@example.com')).toHaveLength(0);

    const token = new URL(linkIn(mail)).pathname;
    const facts = [
      `Decide by: ${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(approval.expiresAt).getUTCDay()]} ${utcDay(approval.expiresAt)} (in 1d 23h)`,
      'You are asked in stage "production" (stage 2 of 2). Your approval counts toward Gate "leads".',
      'Stage "qa" (1 of 2), passed\n  Gate: 1 of 1 approval · approved by qa@example.com',
      'Stage "production" (2 of 2), waiting for a decision',
      '  Gate "leads": 1 of 2 approvals · approved by lead2@example.com · still asked: lead@example.com, lead3@example.com',
      '  Gate "security": 0 of 1 approval · still asked: sec@example.com, group:security',
      'Sent by signoff at signoff (staging). You got this mail because you are an approver of stage "production" of this request.',
    ];
    const approveUrl = `http://signoff.test${token}?verdict=approve`;
    const rejectUrl = `http://signoff.test${token}?verdict=reject`;

    for (const fact of facts) expect(mail.text).toContain(fact);
    expect(mail.text).toContain(`Approve: ${approveUrl}`);
    expect(mail.text).toContain(`Reject: ${rejectUrl}`);
    expect(mail.text).toContain(title);

    const seen = visibleText(mail.html);
    // The same words, laid out as a table: a stage's heading is its row's name.
    for (const fact of facts)
      expect(seen).toContain(
        fact
          .replace('Decide by:', 'Decide by')
          .replace(/\), (passed|waiting)/, ') $1')
          .replace(/\s+/g, ' ')
          .trim(),
      );
    expect(seen).toContain(title);
    // Escaped, not interpreted: the title's markup never reaches the HTML as markup.
    expect(mail.html).not.toContain('<b>v2</b>');
    expect(mail.html).toContain('Ship &lt;b&gt;v2&lt;/b&gt; &amp; more');

    const links = anchors(mail.html);
    expect(links.find((a) => a.text === 'Approve…')?.href).toBe(approveUrl);
    expect(links.find((a) => a.text === 'Reject…')?.href).toBe(rejectUrl);
    for (const label of ['Approve…', 'Reject…']) {
      const style = /style="([^"]*)"/.exec(links.find((a) => a.text === label)?.tag ?? '')?.[1] ?? '';
      // 12 + 20 + 12: a 44 px touch target.
      expect(style).toMatch(/padding:12px \d+px;line-height:20px/);
    }
    expect(mail.html).toMatch(/<meta name="viewport" content="width=device-width, initial-scale=1">/);
    expect(mail.html).toMatch(/<meta name="color-scheme" content="light dark">/);
    expect(mail.html).toContain('@media (prefers-color-scheme: dark)');
    expect(mail.html).toMatch(/<table role="presentation"/);

    // Opening the approve button's link decides nothing: the same one-time link still decides.
    const opened = await h.api({ method: 'GET', url: `${token}?verdict=approve`, token: null });
    expect(opened.statusCode).toBe(200);
    const view = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(view.status).toBe('pending');
    expect(view.decisions.map((d: { actor: string }) => d.actor)).not.toContain('lead@example.com');
    const decided = await h.api({
      method: 'POST',
      url: token,
      token: null,
      payload: { verdict: 'approve' },
      headers: { accept: 'application/json' },
    });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json().stages[1].gates[0].approvals.sort()).toEqual([
      'lead2@example.com',
      'lead@example.com',
    ]);
  });

  it('says why in reminders, escalations and renewed links', async () => {
    const title = `Reasons ${Math.random().toString(36).slice(2)}`;
    await create({
      title,
      timeout: '1d',
      stages: [
        {
          name: 'release',
          type: 'human',
          gates: [{ approvers: ['lead@example.com'] }],
          remindAfter: '1h',
          escalateAfter: '2h',
          escalateTo: ['cto@example.com'],
        },
      ],
    });
    await deliverDue();
    const [first] = mailTo(title, 'lead@example.com');
    if (!first) throw new Error('no first mail');
    // One gate: no name to give it.
    expect(first.text).toContain('  Gate: 0 of 1 approval · still asked: lead@example.com\n');
    h.advance(61 * MINUTE);
    try {
      await deliverDue();
      const [reminder] = mailTo(title, 'lead@example.com', 'Reminder:');
      expect(reminder?.text).toContain(
        'You got this mail because you are an approver of stage "release" of this request and have not decided yet.',
      );
      expect(reminder?.html).toContain('have not decided yet');
      h.advance(HOUR);
      await deliverDue();
      const [escalated] = mailTo(title, 'cto@example.com');
      expect(escalated?.text).toContain(
        'You got this mail because nobody decided stage "release" of this request in time, so it was escalated to you.',
      );
      expect(escalated?.text).toContain(
        'Gate: 0 of 1 approval · still asked: lead@example.com, cto@example.com',
      );

      // The first link has expired (1 h): asking for a fresh one mails the reason with it.
      const renew = await h.api({
        method: 'POST',
        url: `${new URL(linkIn(first)).pathname}/renew`,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(renew.statusCode, renew.body).toBe(202);
      await deliverDue();
      const [fresh] = mailTo(title, 'lead@example.com', 'New link:');
      expect(fresh?.text).toContain(
        'You got this mail because a fresh link was asked for on the page of your earlier link to stage "release" of this request.',
      );
    } finally {
      h.advance(-2 * HOUR - MINUTE);
    }
  });
});

describe('SIGNOFF_INSTANCE_NAME', () => {
  it("defaults to the public URL's host", () => {
    expect(loadConfig({ SIGNOFF_PUBLIC_URL: 'https://approvals.example.com:8443/base' }).instanceName).toBe(
      'approvals.example.com:8443',
    );
    expect(loadConfig({ SIGNOFF_INSTANCE_NAME: ' signoff (production) ' }).instanceName).toBe(
      'signoff (production)',
    );
  });

  it('refuses a name that is not one short line', () => {
    for (const name of ['two\nlines', 'x'.repeat(101)])
      expect(() => loadConfig({ SIGNOFF_INSTANCE_NAME: name })).toThrow(
        expect.objectContaining({ code: 'invalid_input' }),
      );
  });
});

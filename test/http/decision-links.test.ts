import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLink } from '../../src/approvals/links.js';
import type { Approval } from '../../src/core/model.js';
import { findApproval } from '../../src/store/approvals.js';
import { runUnitOfWork } from '../../src/unit-of-work/context.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually } from '../helpers/receiver.js';
import { linkIn, type ReceivedMail, startSmtpServer } from '../helpers/smtp.js';

let h: Harness;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  // Links here last at most an hour, so a test can see one expire before its approval.
  h = await startHarness({
    SIGNOFF_SMTP_URL: smtp.url,
    SIGNOFF_MAIL_FROM: 'signoff@example.com',
    SIGNOFF_LINK_TTL: '1h',
  });
});
afterAll(async () => {
  await h.close();
  await smtp.close();
});

/** Creates an approval and returns it with the one mail per approver it caused. */
async function createAndMail(overrides: Record<string, unknown>) {
  const title = `Deploy ${Math.random().toString(36).slice(2)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ title, ...overrides }),
  });
  expect(res.statusCode).toBe(201);
  const approvers = (overrides.approvers as string[] | undefined) ?? ['lead@example.com'];
  const mails = await smtp.waitForMails((m) => m.subject.includes(title), approvers.length);
  return { approval: res.json(), mails, title };
}

/** The path of a mailed link, for inject (links are built from SIGNOFF_PUBLIC_URL). */
function pathOf(mail: ReceivedMail): string {
  const url = new URL(linkIn(mail));
  expect(url.origin).toBe('http://signoff.test');
  return url.pathname;
}

async function status(id: string) {
  return (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
}

describe('approval mail', () => {
  it('tells each approver what is asked, with a working one-time link, in text and HTML', async () => {
    const { approval, mails, title } = await createAndMail({
      description: 'v2.3.1 is on staging; includes PROJ-456',
      link: 'https://staging.example.com',
      requester: 'dev@example.com',
      approvers: ['lead@example.com', 'pm@example.com'],
      metadata: { pipeline: 'web' },
    });
    expect(mails.map((m) => m.to).sort()).toEqual(['lead@example.com', 'pm@example.com']);
    for (const mail of mails) {
      expect(mail.subject).toBe(`Approval needed: ${title}`);
      expect(mail.text).toContain('dev@example.com asks for your approval');
      expect(mail.text).toContain('PROJ-456');
      expect(mail.text).toContain('https://staging.example.com');
      expect(mail.text).toContain('pipeline: web');
      expect(mail.html).toContain(linkIn(mail));
      expect(mail.parsed.from?.text).toContain('signoff@example.com');
    }
    const [first, second] = mails;
    if (!first || !second) throw new Error('two mails expected');
    expect(linkIn(first)).not.toBe(linkIn(second));
    const page = await h.api({ method: 'GET', url: pathOf(first), token: null });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(title);
    expect(page.body).toContain(first.to);
    await eventually(async () => {
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
      expect(audit.items.filter((e: { type: string }) => e.type === 'notification.sent')).toHaveLength(2);
    });
  });

  it('stores links only as SHA-256 hashes', async () => {
    const { mails } = await createAndMail({});
    const token = pathOf(mails[0] as ReceivedMail)
      .split('/')
      .pop() as string;
    const rows = await h.signoff.services.db.selectFrom('links').select('token_hash').execute();
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(token).digest('hex');
    expect(rows.some((r) => r.token_hash === hash)).toBe(true);
  });
});

describe('decision pages', () => {
  it('never decide on GET or HEAD, send no-referrer and no-store, and load nothing third-party', async () => {
    const { approval, mails } = await createAndMail({});
    const path = pathOf(mails[0] as ReceivedMail);
    for (let i = 0; i < 3; i++) {
      const get = await h.api({ method: 'GET', url: `${path}?verdict=approve`, token: null });
      expect(get.statusCode).toBe(200);
      expect(get.headers['referrer-policy']).toBe('no-referrer');
      expect(get.headers['cache-control']).toBe('no-store');
      // Only signoff's own stylesheet and script, and nothing inline.
      expect(get.body).not.toMatch(/src="http|href="http[^"]*\.(css|js)"|<script>|<style/);
      expect(
        [...get.body.matchAll(/<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
      ).toEqual(['/assets/app.css', '/assets/app.js']);
      expect(get.headers['content-security-policy']).toContain("default-src 'none'");
      expect(get.headers['content-security-policy']).toContain("script-src 'self'");
      const head = await h.api({ method: 'HEAD', url: path, token: null });
      expect(head.statusCode).toBe(200);
    }
    const json = await h.api({
      method: 'GET',
      url: path,
      token: null,
      headers: { accept: 'application/json' },
    });
    expect(json.json()).toMatchObject({
      link: { state: 'usable', approver: 'lead@example.com' },
      approval: { id: approval.id },
    });
    expect((await status(approval.id)).status).toBe('pending');
    expect((await status(approval.id)).decisions).toEqual([]);
  });

  it('decides on POST, once; the second POST answers 410 link_used', async () => {
    const { approval, mails } = await createAndMail({});
    const path = pathOf(mails[0] as ReceivedMail);
    const post = await h.api({
      method: 'POST',
      url: path,
      token: null,
      payload: { verdict: 'approve', comment: 'ship it' },
      headers: { accept: 'application/json' },
    });
    expect(post.statusCode).toBe(200);
    expect(post.json()).toMatchObject({
      status: 'approved',
      decisions: [{ actor: 'lead@example.com', via: 'link', comment: 'ship it' }],
    });
    const again = await h.api({
      method: 'POST',
      url: path,
      token: null,
      payload: 'verdict=reject',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(again.statusCode).toBe(410);
    expect(again.body).toContain('already been used');
    const json = await h.api({
      method: 'GET',
      url: path,
      token: null,
      headers: { accept: 'application/json' },
    });
    expect(json.statusCode).toBe(410);
    expect(json.json().error.code).toBe('link_used');
    expect((await status(approval.id)).status).toBe('approved');
  });

  it('decides from the HTML form and shows the result page', async () => {
    const { mails } = await createAndMail({});
    const res = await h.api({
      method: 'POST',
      url: pathOf(mails[0] as ReceivedMail),
      token: null,
      payload: 'verdict=reject&comment=not+today',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('rejection is recorded');
    expect(res.body).toContain('now rejected');
  });

  it('refuses a bad verdict and an unknown token without deciding', async () => {
    const { approval, mails } = await createAndMail({});
    const path = pathOf(mails[0] as ReceivedMail);
    const bad = await h.api({
      method: 'POST',
      url: path,
      token: null,
      payload: { verdict: 'maybe' },
      headers: { accept: 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
    const unknown = await h.api({ method: 'GET', url: `/d/${'A'.repeat(43)}`, token: null });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('text/html');
    const garbage = await h.api({
      method: 'POST',
      url: '/d/not-a-token',
      token: null,
      payload: { verdict: 'approve' },
      headers: { accept: 'application/json' },
    });
    expect(garbage.json().error.code).toBe('link_not_found');
    expect((await status(approval.id)).status).toBe('pending');
  });

  it('answers 410 for an expired link without rejecting; renew mails a fresh link that works', async () => {
    const { approval, mails } = await createAndMail({ timeout: '24h' });
    const path = pathOf(mails[0] as ReceivedMail);
    // The mail says the link ends before the approval does, and what then.
    expect(mails[0]?.text).toMatch(
      /This link works once, for 1h, until .* UTC; after that, its page can mail you a fresh one/,
    );
    h.advance(61 * 60 * 1000);
    try {
      const page = await h.api({ method: 'GET', url: path, token: null });
      expect(page.statusCode).toBe(410);
      expect(page.body).toContain('expired');
      expect(page.body).toContain(`${path}/renew`);
      const post = await h.api({
        method: 'POST',
        url: path,
        token: null,
        payload: { verdict: 'approve' },
        headers: { accept: 'application/json' },
      });
      expect(post.statusCode).toBe(410);
      expect(post.json().error.code).toBe('link_expired');
      expect((await status(approval.id)).status).toBe('pending');

      const renew = await h.api({
        method: 'POST',
        url: `${path}/renew`,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(renew.statusCode).toBe(202);
      const [fresh] = await smtp.waitForMails(
        (m) => m.subject.startsWith('New link:') && m.subject.includes(approval.title),
      );
      const renewedAgain = await h.api({
        method: 'POST',
        url: `${path}/renew`,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(renewedAgain.statusCode).toBe(410);

      const decided = await h.api({
        method: 'POST',
        url: pathOf(fresh as ReceivedMail),
        token: null,
        payload: { verdict: 'approve' },
        headers: { accept: 'application/json' },
      });
      expect(decided.statusCode).toBe(200);
      expect(decided.json().status).toBe('approved');
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
      expect(audit.items.map((e: { type: string }) => e.type)).toContain('link.renewed');
    } finally {
      h.advance(-61 * 60 * 1000);
    }
  });

  it('offers no renewal once the approval itself has timed out, even before the sweeper ran', async () => {
    const { mails } = await createAndMail({ timeout: '30m' });
    const path = pathOf(mails[0] as ReceivedMail);
    h.advance(31 * 60 * 1000);
    try {
      const page = await h.api({
        method: 'GET',
        url: path,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(page.statusCode).toBe(410);
      expect(page.json().link.renewable).toBe(false);
      const renew = await h.api({
        method: 'POST',
        url: `${path}/renew`,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(renew.statusCode).toBe(409);
      expect(renew.json().error.code).toBe('already_decided');
    } finally {
      h.advance(-31 * 60 * 1000);
    }
    // Whether or not the sweeper has expired it meanwhile, no fresh link is offered.
  });

  it('counts 2-of-3 through links and then refuses the third link with 409', async () => {
    const approvers = ['a@example.com', 'b@example.com', 'c@example.com'];
    const { approval, mails } = await createAndMail({ approvers, required: 2 });
    const byApprover = new Map(mails.map((m) => [m.to, pathOf(m)]));
    const first = await h.api({
      method: 'POST',
      url: byApprover.get('a@example.com') as string,
      token: null,
      payload: { verdict: 'approve' },
      headers: { accept: 'application/json' },
    });
    expect(first.json().status).toBe('pending');
    const second = await h.api({
      method: 'POST',
      url: byApprover.get('b@example.com') as string,
      token: null,
      payload: { verdict: 'approve' },
      headers: { accept: 'application/json' },
    });
    expect(second.json().status).toBe('approved');
    const third = await h.api({
      method: 'POST',
      url: byApprover.get('c@example.com') as string,
      token: null,
      payload: { verdict: 'reject' },
      headers: { accept: 'application/json' },
    });
    expect(third.statusCode).toBe(409);
    expect(third.json().error.code).toBe('already_decided');
    expect((await status(approval.id)).decisions).toHaveLength(2);
  });
});

describe('link lifetime', () => {
  const HOUR = 3600_000;
  let plain: Harness;
  beforeAll(async () => {
    // No SIGNOFF_LINK_TTL: a link works as long as its approval can be decided.
    plain = await startHarness({ SIGNOFF_SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await plain?.close();
  });

  it("keeps a 2-day approval's link working the next day, once, and says so", async () => {
    const title = `Overnight ${Math.random().toString(36).slice(2)}`;
    const created = await plain.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ title, timeout: '2d' }),
    });
    expect(created.statusCode).toBe(201);
    const [mail] = await smtp.waitForMails((m) => m.subject.includes(title));
    if (!mail) throw new Error('no mail');
    expect(mail.text).toContain("This link works once, until the request's deadline.");
    expect(mail.html).toContain('This link works once, until the request&#39;s deadline.');
    const path = pathOf(mail);
    plain.advance(25 * HOUR);
    try {
      const page = await plain.api({ method: 'GET', url: path, token: null });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('This link works once, until the request&#39;s deadline, in 22h');
      const post = (verdict: string) =>
        plain.api({
          method: 'POST',
          url: path,
          token: null,
          payload: { verdict },
          headers: { accept: 'application/json' },
        });
      const decided = await post('approve');
      expect(decided.statusCode, decided.body).toBe(200);
      expect(decided.json().status).toBe('approved');
      const again = await post('reject');
      expect(again.statusCode).toBe(410);
      expect(again.json().error.code).toBe('link_used');
    } finally {
      plain.advance(-25 * HOUR);
    }
  });

  it('ends with the approval: past the deadline the link decides nothing', async () => {
    const title = `Short ${Math.random().toString(36).slice(2)}`;
    await plain.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ title, timeout: '2h' }),
    });
    const [mail] = await smtp.waitForMails((m) => m.subject.includes(title));
    plain.advance(2 * HOUR + 1000);
    try {
      const post = await plain.api({
        method: 'POST',
        url: pathOf(mail as ReceivedMail),
        token: null,
        payload: { verdict: 'approve' },
        headers: { accept: 'application/json' },
      });
      expect(post.statusCode).toBe(410);
      expect(post.json().error.code).toBe('link_expired');
    } finally {
      plain.advance(-2 * HOUR - 1000);
    }
  });
});

/** Whether a response carries the headers every decision page sends. */
function expectPageHeaders(res: { headers: Record<string, unknown> }) {
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
}

describe('errors on decision pages', () => {
  it('answer a bad verdict, a token of the wrong shape and an unknown path with a page, or JSON when asked', async () => {
    const { approval, mails } = await createAndMail({});
    const path = pathOf(mails[0] as ReceivedMail);
    const refused = [
      { method: 'POST' as const, url: path, payload: 'verdict=maybe', status: 400, code: 'invalid_input' },
      { method: 'GET' as const, url: `/d/${'A'.repeat(300)}`, status: 400, code: 'invalid_input' },
      { method: 'POST' as const, url: `/d/${'A'.repeat(300)}/renew`, status: 400, code: 'invalid_input' },
      { method: 'GET' as const, url: `${path}/elsewhere`, status: 404, code: 'not_found' },
    ];
    for (const { method, url, payload, status: expected, code } of refused) {
      const form = payload ? { 'content-type': 'application/x-www-form-urlencoded' } : {};
      const page = await h.api({ method, url, payload, token: null, headers: form });
      expect(page.statusCode, url).toBe(expected);
      expect(page.headers['content-type'], url).toContain('text/html');
      expectPageHeaders(page);
      const json = await h.api({
        method,
        url,
        payload,
        token: null,
        headers: { ...form, accept: 'application/json' },
      });
      expect(json.statusCode, url).toBe(expected);
      expect(json.json().error.code, url).toBe(code);
      expectPageHeaders(json);
    }
    expect((await status(approval.id)).status).toBe('pending');
  });

  it('answer an unexpected failure with a page naming nothing but the request', async () => {
    const { approval, mails } = await createAndMail({});
    const path = pathOf(mails[0] as ReceivedMail);
    const { db } = h.signoff.services;
    const row = await db
      .selectFrom('approvals')
      .select('metadata')
      .where('id', '=', approval.id)
      .executeTakeFirst();
    // A row no signoff would write: reading it fails in a way no error code describes.
    await db.updateTable('approvals').set({ metadata: '{' }).where('id', '=', approval.id).execute();
    try {
      const page = await h.api({ method: 'GET', url: path, token: null });
      expect(page.statusCode).toBe(500);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).not.toContain('JSON');
      expectPageHeaders(page);
      const json = await h.api({
        method: 'GET',
        url: path,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(json.statusCode).toBe(500);
      expect(json.json().error.code).toBe('internal');
      expectPageHeaders(json);
    } finally {
      await db
        .updateTable('approvals')
        .set({ metadata: row?.metadata as string })
        .where('id', '=', approval.id)
        .execute();
    }
  });

  it('leave the API answering JSON', async () => {
    const res = await h.api({ method: 'GET', url: '/v1/approvals?limit=abc' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.headers['referrer-policy']).toBeUndefined();
    const unknown = await h.api({ method: 'GET', url: '/v1/nowhere' });
    expect(unknown.headers['content-type']).toContain('application/json');
    expect(unknown.json().error.code).toBe('not_found');
  });
});

describe('abuse', () => {
  it('throttles an address that keeps trying unknown links, while a valid link still works', async () => {
    const limited = await startHarness({ SIGNOFF_LINK_RATE_LIMIT: '3' }, { workers: false });
    try {
      const guess = (headers: Record<string, string> = {}) =>
        limited.api({
          method: 'GET',
          url: `/d/${'B'.repeat(43)}`,
          token: null,
          headers: { accept: 'application/json', ...headers },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await guess();
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json().error.code).toBe('rate_limited');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      const page = await limited.api({ method: 'GET', url: `/d/${'B'.repeat(43)}`, token: null });
      expect(page.statusCode).toBe(429);
      expect(page.headers['content-type']).toContain('text/html');
      expectPageHeaders(page);

      // The same address, throttled for guessing, still opens and uses a link it was sent.
      const created = await limited.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody() });
      const approval = await findApproval(limited.signoff.services.db, created.json().id);
      const link = await runUnitOfWork(limited.signoff.services, (unit) =>
        issueLink(unit, approval as Approval, 'approval', 'lead@example.com'),
      );
      const path = new URL(link.url).pathname;
      const opened = await limited.api({
        method: 'GET',
        url: path,
        token: null,
        headers: { accept: 'application/json' },
      });
      expect(opened.statusCode).toBe(200);
      const decided = await limited.api({
        method: 'POST',
        url: path,
        token: null,
        headers: { accept: 'application/json' },
        payload: { verdict: 'approve' },
      });
      expect(decided.statusCode).toBe(200);
      expect(decided.json().status).toBe('approved');
      const api = await limited.api({ method: 'GET', url: '/v1/approvals' });
      expect(api.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('counts the client behind a trusted proxy, so one guesser does not lock out everyone', async () => {
    const behindProxy = await startHarness(
      { SIGNOFF_LINK_RATE_LIMIT: '2', SIGNOFF_TRUST_PROXY: '127.0.0.0/8' },
      { workers: false },
    );
    try {
      const guess = (client: string) =>
        behindProxy.api({
          method: 'GET',
          url: `/d/${'C'.repeat(43)}`,
          token: null,
          remoteAddress: '127.0.0.1',
          headers: { accept: 'application/json', 'x-forwarded-for': client },
        });
      const guesser = [];
      for (let i = 0; i < 4; i++) guesser.push((await guess('203.0.113.7')).statusCode);
      expect(guesser).toEqual([404, 404, 429, 429]);
      expect((await guess('198.51.100.20')).statusCode).toBe(404);
    } finally {
      await behindProxy.close();
    }
    for (const wrong of ['10.1.2.3/8', 'proxy.internal', '10.0.0.0/33'])
      await expect(startHarness({ SIGNOFF_TRUST_PROXY: wrong })).rejects.toMatchObject({
        code: 'invalid_input',
      });
  });

  it('takes form posts only on decision pages, not on the JSON API', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: 'title=x&approvers=a@example.com',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret, sha256Hex } from '../../src/auth/secrets.js';
import { insertSignInLink } from '../../src/store/web.js';
import { launchBrowser, startWebHarness, type WebHarness } from '../helpers/browser.js';
import { approvalBody, startHarness } from '../helpers/harness.js';
import { freePort } from '../helpers/process.js';
import { eventually, PATIENCE_MS, startReceiver } from '../helpers/receiver.js';
import { type ReceivedMail, startSmtpServer } from '../helpers/smtp.js';

let browser: Browser;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let h: WebHarness;
let attacker: Server;
let attackerUrl: string;

beforeAll(async () => {
  [browser, smtp, receiver] = await Promise.all([launchBrowser(), startSmtpServer(), startReceiver()]);
  h = await startWebHarness({ SIGNOFF_SMTP_URL: smtp.url });
  // Another site: a page whose form posts to signoff, as a cross-site request forgery would.
  attacker = createServer((req, res) => {
    const target = decodeURIComponent((req.url ?? '/').slice(1));
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><form id="f" method="post" action="${target}"><input name="verdict" value="approve"><input name="_csrf" value="forged"></form><script>document.getElementById('f').submit()</script>`,
      );
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await smtp?.close();
  await receiver?.stop();
  await new Promise((resolve) => attacker?.close(resolve));
});

function signInLinkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]{43}/.exec(mail.text);
  if (!match) throw new Error(`no sign-in link in: ${mail.text}`);
  return match[0];
}

async function create(body: Record<string, unknown>): Promise<string> {
  const response = await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody(body) });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

describe('signing in with a mailed link, the inbox, and deciding from it', () => {
  it('signs in only on the POST, lists exactly what waits, and an approval resumes the webhook', async () => {
    const mine = await create({
      title: 'Deploy web v2.3.1 to production',
      approvers: ['lead@example.com'],
      callback: { type: 'webhook', url: receiver.url },
      notify: [],
    });
    await create({ title: 'Someone else decides', approvers: ['other@example.com'] });
    await create({ title: 'A group decides', approvers: ['group:ops'] });
    await create({ title: 'Lead asked', approvers: ['other@example.com'], requester: 'lead@example.com' });

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.fill('#email', 'Lead@Example.com');
    await page.click('button[type=submit]');
    await page.getByRole('status').waitFor();
    const [mail] = await smtp.waitForMails((m) => m.subject === 'Sign in to signoff');
    const link = signInLinkIn(mail as ReceivedMail);

    // Opening the link signs nobody in: it shows a button.
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in as lead@example.com' }).waitFor();
    expect((await context.cookies()).some((c) => c.name === 'signoff')).toBe(false);
    await page.getByRole('button', { name: 'Sign in as lead@example.com' }).click();
    await page.waitForURL(`${h.url}/`);
    const session = (await context.cookies()).find((c) => c.name === 'signoff');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });

    // The inbox: exactly what waits for this person, with the count in the tab title.
    const titles = await page.locator('ul.items a.title').allTextContents();
    expect(titles).toEqual(['Deploy web v2.3.1 to production']);
    expect(await page.title()).toMatch(/^\(1\) Inbox/);
    await page.getByRole('link', { name: /Requested by me/ }).click();
    expect(await page.locator('ul.items a.title').allTextContents()).toEqual(['Lead asked']);

    // A used link signs in no one else.
    const again = await browser.newContext();
    const other = await again.newPage();
    const reopened = await other.goto(link);
    expect(reopened?.status()).toBe(410);
    await again.close();

    // Deciding from the inbox goes through the one decision path and resumes the webhook.
    await page.goto(`${h.url}/`);
    await page.getByRole('link', { name: 'Deploy web v2.3.1 to production' }).click();
    await page.fill('#comment', 'ship it');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'Your approval is recorded' }).waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.locator('main').textContent()).not.toMatch(/Decide by/);
    const hooks = await receiver.waitFor(2, PATIENCE_MS);
    const event = hooks.map((r) => JSON.parse(r.body)).find((e) => e.type === 'approval.decided');
    expect(event).toMatchObject({ type: 'approval.decided', data: { id: mine, status: 'approved' } });
    expect(event.data.decisions[0]).toMatchObject({
      actor: 'lead@example.com',
      via: 'ui',
      comment: 'ship it',
    });

    await page.goto(`${h.url}/`);
    expect(await page.locator('ul.items a.title').count()).toBe(0);
    await context.close();
  });
});

describe('CSRF, cookies and signing out', () => {
  it('refuses a cross-site form post, and a signed-out browser sees only the sign-in page', async () => {
    const id = await create({ title: 'Forgery target', approvers: ['victim@example.com'] });
    const context = await h.signedIn(browser, 'victim@example.com');
    const page = await context.newPage();
    await page.goto(`${h.url}/approvals/${id}`);
    await page.getByRole('button', { name: 'Approve' }).waitFor();

    // The other site's form carries the session cookie (same site, SameSite=Lax) but no valid token.
    const forged = page.waitForResponse((r) => r.url().endsWith(`/approvals/${id}/decisions`));
    await page.goto(`${attackerUrl}/${encodeURIComponent(`${h.url}/approvals/${id}/decisions`)}`);
    const refused = await forged;
    expect(refused.status(), await refused.text()).toBe(403);
    const after = await h.api({ method: 'GET', url: `/v1/approvals/${id}` });
    expect(after.json()).toMatchObject({ status: 'pending', decisions: [] });

    // Signing out ends the session: every page then leads to the sign-in page.
    await page.goto(`${h.url}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in$/);
    for (const path of ['/', `/approvals/${id}`, '/?tab=history', `/approvals/${id}/events`]) {
      await page.goto(`${h.url}${path}`);
      expect(new URL(page.url()).pathname, path).toBe('/sign-in');
    }
    const post = await page.request.post(`${h.url}/approvals/${id}/decisions`, {
      form: { verdict: 'approve', _csrf: 'x' },
      maxRedirects: 0,
    });
    expect(post.status()).toBe(401);
    await context.close();
  });

  it('marks the cookies Secure behind https and names them __Host-', async () => {
    const secure = await startHarness(
      { SIGNOFF_PUBLIC_URL: 'https://signoff.example.com' },
      { workers: false },
    );
    try {
      const app = secure.signoff.app;
      const form = await app.inject({ method: 'GET', url: '/sign-in' });
      const csrfCookie = form.cookies.find((c) => c.name === '__Host-signoff-csrf');
      expect(csrfCookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      const cookieHeader = `__Host-signoff-csrf=${csrfCookie?.value}`;
      const asked = await app.inject({
        method: 'POST',
        url: '/sign-in',
        headers: { cookie: cookieHeader },
        payload: { _csrf: csrf, email: 'lead@example.com' },
      });
      expect(asked.statusCode).toBe(200);
      // A link as issueSignInLink makes one (its token known here), then the POST that signs in.
      const token = generateSecret();
      const now = new Date();
      await insertSignInLink(secure.signoff.services.db, {
        tokenHash: sha256Hex(token),
        email: 'lead@example.com',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 60_000),
      });
      const signedIn = await app.inject({
        method: 'POST',
        url: `/sign-in/${token}`,
        headers: { cookie: cookieHeader },
        payload: { _csrf: csrf },
      });
      expect(signedIn.statusCode).toBe(303);
      const session = signedIn.cookies.find((c) => c.name === '__Host-signoff');
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
      expect(session?.maxAge).toBeGreaterThan(0);
      // Only the hash is stored.
      const stored = await secure.signoff.services.db.selectFrom('web_sessions').selectAll().execute();
      expect(stored.map((r) => r.id_hash)).toEqual([sha256Hex(session?.value ?? '')]);
    } finally {
      await secure.close();
    }
  });
});

describe('a mail server that is down when someone asks', () => {
  it('answers at once, drops a request older than a link, and mails the rest when the server is back', async () => {
    const smtpPort = await freePort();
    const down = await startHarness({ SIGNOFF_SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
    let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
    try {
      const app = down.signoff.app;
      const form = await app.inject({ method: 'GET', url: '/sign-in' });
      const csrfCookie = form.cookies.find((c) => c.name === 'signoff-csrf');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      const ask = (email: string) =>
        app.inject({
          method: 'POST',
          url: '/sign-in',
          headers: { cookie: `signoff-csrf=${csrfCookie?.value}` },
          payload: { _csrf: csrf, email },
        });
      type Entry = { kind: string; attempts: number; lastError: string | null };
      const signInMails = async (status: string): Promise<Entry[]> => {
        const listed = await down.api({ method: 'GET', url: `/v1/outbox?status=${status}` });
        return listed.json().items.filter((m: Entry) => m.kind === 'sign-in-mail');
      };
      const refusedOnce = () =>
        eventually(async () => {
          const [waiting] = await signInMails('pending');
          expect(waiting?.attempts).toBeGreaterThan(0);
          expect(waiting?.lastError).toBe(`connection refused by 127.0.0.1:${smtpPort}`);
        });

      // The request is answered as ever while its mail waits in the outbox.
      const early = await ask('early@example.com');
      expect(early.statusCode, early.body).toBe(200);
      await refusedOnce();
      // Past a link's lifetime (15 minutes), the request is dropped rather than mailed late.
      down.advance(16 * 60_000);
      await eventually(async () => expect(await signInMails('delivered')).toHaveLength(1));
      expect(await signInMails('pending')).toEqual([]);

      const asked = await ask('Lead@Example.com');
      expect(asked.statusCode, asked.body).toBe(200);
      await refusedOnce();
      smtp = await startSmtpServer(smtpPort);
      const [mail] = await smtp.waitForMails((m) => m.subject === 'Sign in to signoff');
      expect(mail?.to).toBe('lead@example.com');
      const opened = await app.inject({
        method: 'GET',
        url: new URL(signInLinkIn(mail as ReceivedMail)).pathname,
      });
      expect(opened.statusCode).toBe(200);
      expect(opened.body).toContain('Sign in as lead@example.com');
      await eventually(async () => expect(await signInMails('delivered')).toHaveLength(2));
      expect(smtp.mails.map((m) => m.to)).toEqual(['lead@example.com']);
    } finally {
      await down.close();
      await smtp?.close();
    }
  });
});

describe('abuse', () => {
  it('throttles an address that keeps trying unknown sign-in links, while a link it was sent still works', async () => {
    const limited = await startHarness({ SIGNOFF_LINK_RATE_LIMIT: '3' }, { workers: false });
    try {
      const app = limited.signoff.app;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await app.inject({
          method: 'GET',
          url: `/sign-in/${generateSecret()}`,
          headers: { accept: 'application/json' },
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.json().error.code).toBe('rate_limited');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        }
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      // As a page too, not only as JSON.
      const page = await app.inject({ method: 'GET', url: `/sign-in/${generateSecret()}` });
      expect(page.statusCode).toBe(429);
      expect(page.headers['content-type']).toContain('text/html');

      // The same address, throttled for guessing, still opens and uses a link it was mailed.
      const token = generateSecret();
      const now = new Date();
      await insertSignInLink(limited.signoff.services.db, {
        tokenHash: sha256Hex(token),
        email: 'lead@example.com',
        createdAt: now,
        expiresAt: new Date(now.getTime() + 60_000),
      });
      const opened = await app.inject({ method: 'GET', url: `/sign-in/${token}` });
      expect(opened.statusCode).toBe(200);
      const csrfCookie = opened.cookies.find((c) => c.name === 'signoff-csrf');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(opened.body)?.[1] ?? '';
      const signedIn = await app.inject({
        method: 'POST',
        url: `/sign-in/${token}`,
        headers: { cookie: `signoff-csrf=${csrfCookie?.value}` },
        payload: { _csrf: csrf },
      });
      expect(signedIn.statusCode).toBe(303);
      expect(signedIn.cookies.some((c) => c.name === 'signoff')).toBe(true);
    } finally {
      await limited.close();
    }
  });
});

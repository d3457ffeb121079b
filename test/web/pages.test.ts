import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  scrollsSideways,
  seriousViolations,
  startWebHarness,
  type WebHarness,
} from '../helpers/browser.js';
import { approvalBody } from '../helpers/harness.js';
import { linkIn, type ReceivedMail, startSmtpServer } from '../helpers/smtp.js';

let browser: Browser;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let h: WebHarness;
let lead: BrowserContext;
let stranger: BrowserContext;

const VIEWS = [
  { width: 375, height: 812, colorScheme: 'light' },
  { width: 375, height: 812, colorScheme: 'dark' },
  { width: 1280, height: 900, colorScheme: 'light' },
  { width: 1280, height: 900, colorScheme: 'dark' },
] as const;
// Set to write the README's screenshots into docs/images.
const SCREENSHOTS = process.env.SIGNOFF_WRITE_SCREENSHOTS === '1';

beforeAll(async () => {
  [browser, smtp] = await Promise.all([launchBrowser(), startSmtpServer()]);
  // Links last at most an hour here, so one can expire while its approval still waits.
  h = await startWebHarness({ SIGNOFF_SMTP_URL: smtp.url, SIGNOFF_LINK_TTL: '1h' });
  lead = await h.signedIn(browser, 'lead@example.com');
  stranger = await browser.newContext();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await smtp?.close();
});

/** Every view of the page as it is now: no sideways scrolling, nothing axe calls serious. */
async function checkEveryView(page: Page, name: string, reload: boolean) {
  for (const view of VIEWS) {
    await page.setViewportSize({ width: view.width, height: view.height });
    await page.emulateMedia({ colorScheme: view.colorScheme });
    if (reload) await page.reload();
    const where = `${name} at ${view.width}px, ${view.colorScheme}`;
    expect(await scrollsSideways(page), where).toBe(false);
    expect(await seriousViolations(page), where).toEqual([]);
  }
}

async function visit(context: BrowserContext, url: string, name: string, status = 200): Promise<Page> {
  const page = await context.newPage();
  const response = await page.goto(url);
  expect(response?.status(), name).toBe(status);
  await checkEveryView(page, name, true);
  return page;
}

async function shoot(page: Page, file: string) {
  if (!SCREENSHOTS) return;
  const dir = join(process.cwd(), 'docs/images');
  mkdirSync(dir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: join(dir, file), fullPage: true });
}

const LONG = `https://ci.example.com/acme/web/pipelines/${'very-long-segment-'.repeat(8)}end`;

describe('the checks themselves', () => {
  it('see a sideways scroll and a serious accessibility problem when there is one', async () => {
    const page = await stranger.newPage();
    await page.setViewportSize({ width: 375, height: 812 });
    await page.setContent(
      '<html lang="en"><title>t</title><main><img src="x.png"><div style="width:600px">wide</div></main></html>',
    );
    expect(await scrollsSideways(page)).toBe(true);
    expect((await seriousViolations(page)).join()).toMatch(/image-alt/);
    await page.close();
  });
});

describe('every page fits a phone and a desktop, light and dark, with no serious accessibility problem', () => {
  it('the inbox, approval pages, decision links, sign-in and errors', async () => {
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: {
        title: 'Deploy web v2.3.1 to production',
        description: `Ships **v2.3.1** to production.\n\n- fixes PROJ-456\n- see ${LONG}\n\n<script>alert(1)</script> [bad](javascript:alert(1))`,
        link: LONG,
        metadata: { pipeline: 'web', repository: 'acme/web', run: LONG, commit: 'a1b2c3d' },
        requester: 'dev@example.com',
        timeout: '4h',
        stages: [
          {
            name: 'production',
            type: 'human',
            gates: [
              { approvers: ['lead@example.com', 'pm@example.com'], required: 1 },
              { approvers: ['sre@example.com', 'group:ops'], required: 1 },
            ],
          },
        ],
        callback: { type: 'webhook', url: 'https://ci.example.com/hooks/signoff' },
      },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ title: 'Rotate the database password', approvers: ['lead@example.com'] }),
    });
    const [pmMail] = await smtp.waitForMails((m) => m.to.includes('pm@example.com'));
    const pmLink = linkIn(pmMail as ReceivedMail);

    const inbox = await visit(lead, `${h.url}/`, 'inbox');
    expect(await inbox.locator('ul.items li').count()).toBe(2);
    await shoot(inbox, 'inbox.png');

    const pending = await visit(lead, `${h.url}/approvals/${id}`, 'approval, pending');
    const text = (await pending.locator('main').textContent()) ?? '';
    expect(text).toContain('Gate 1: 0 of 1 approval · still asked: lead@example.com, pm@example.com');
    expect(text).toContain('Gate 2: 0 of 1 approval · still asked: sre@example.com, group:ops');
    expect(text).toContain('Tells ci.example.com (webhook).');
    // Markdown with raw HTML off: the script tag is text, the javascript: link is not a link.
    expect(await pending.locator('main script').count()).toBe(0);
    expect(await pending.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await pending.locator(`td a[href="${LONG}"]`).count()).toBe(1);
    await shoot(pending, 'approval.png');

    const preselected = await visit(stranger, `${pmLink}?verdict=reject`, 'decision link, pending');
    expect(await preselected.locator('button.reject.selected').count()).toBe(1);
    await preselected.fill('#comment', 'not during the freeze');
    await preselected.getByRole('button', { name: 'Reject' }).click();
    await preselected.getByRole('status').filter({ hasText: 'Your rejection is recorded' }).waitFor();
    await checkEveryView(preselected, 'decision link, decided', false);

    await visit(stranger, pmLink, 'decision link, used', 410);
    const decided = await visit(lead, `${h.url}/approvals/${id}`, 'approval, decided');
    expect(await decided.locator('main').textContent()).toContain('not during the freeze');
    expect(await decided.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await visit(lead, `${h.url}/?tab=history&q=deploy`, 'inbox, history');
    await visit(lead, `${h.url}/approvals/apr_01NOSUCHAPPROVAL0000000000`, 'error, not found', 404);
  }, 240_000);

  it('sign-in pages, and links past their time', async () => {
    const signIn = await visit(stranger, `${h.url}/sign-in`, 'sign-in');
    await signIn.fill('#email', 'new@example.com');
    await signIn.click('button[type=submit]');
    await signIn.getByRole('status').waitFor();
    await checkEveryView(signIn, 'sign-in, mail sent', false);
    const [signInMail] = await smtp.waitForMails((m) => m.subject === 'Sign in to signoff');
    const signInLink = /https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]{43}/.exec(
      (signInMail as ReceivedMail).text,
    )?.[0];
    await visit(stranger, signInLink as string, 'sign-in link');

    // A link past its time: the approval mail for the other approval, opened two hours on,
    // while the approval still waits, so its page offers a fresh link.
    const [late] = await smtp.waitForMails((m) => m.subject.includes('Rotate the database password'));
    h.advance(2 * 3600_000);
    const expired = await visit(stranger, linkIn(late as ReceivedMail), 'decision link, expired', 410);
    expect(await expired.getByRole('button', { name: 'Email me a new link' }).count()).toBe(1);
    await visit(stranger, signInLink as string, 'sign-in link, expired', 410);
  }, 240_000);
});

describe('on a phone', () => {
  it("the mail's Approve… link opens on the title and the Approve button, both on the first screen", async () => {
    const title = 'Rotate the signing key of the payments API';
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({
        title,
        approvers: ['ops@example.com'],
        description: `${'Why this rotation, and what it touches. '.repeat(40)}`,
        metadata: { service: 'payments', region: 'eu-west-1', ticket: 'SEC-1234', window: 'tonight' },
      }),
    });
    expect(created.statusCode).toBe(201);
    const [mail] = await smtp.waitForMails((m) => m.subject.includes(title));
    const approveUrl = /Approve: (\S+)/.exec((mail as ReceivedMail).text)?.[1];
    expect(approveUrl).toContain('verdict=approve');
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await stranger.newPage();
      await page.setViewportSize({ width: 375, height: 812 });
      await page.emulateMedia({ colorScheme });
      await page.goto(approveUrl as string);
      const firstScreen = async (box: { y: number; height: number } | null) =>
        box !== null && box.y >= 0 && box.y + box.height <= 812;
      expect(await firstScreen(await page.locator('h1').boundingBox()), `title, ${colorScheme}`).toBe(true);
      const approve = page.getByRole('button', { name: 'Approve' });
      expect(await firstScreen(await approve.boundingBox()), `Approve, ${colorScheme}`).toBe(true);
      expect(await page.evaluate('window.scrollY')).toBe(0);
      expect(await scrollsSideways(page)).toBe(false);
      expect(await seriousViolations(page)).toEqual([]);
      await page.close();
    }
  });
});

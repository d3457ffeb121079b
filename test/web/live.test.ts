import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startWebHarness, type WebHarness } from '../helpers/browser.js';
import { approvalBody } from '../helpers/harness.js';
import { PATIENCE_MS } from '../helpers/receiver.js';

let browser: Browser;
let h: WebHarness;

beforeAll(async () => {
  browser = await launchBrowser();
  h = await startWebHarness();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ notify: [], ...body }),
  });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

/** Opens a page and waits until its event stream is connected; marks the document to prove no reload. */
async function openLive(page: Page, url: string) {
  await page.goto(url);
  await page.locator('html[data-live=on]').waitFor({ timeout: PATIENCE_MS });
  await page.evaluate('window.stillTheSamePage = true');
}

// On PostgreSQL the change reaches the stream through LISTEN/NOTIFY, as it would from another instance.
describe('pages update without reload when someone decides elsewhere', () => {
  it('a second browser on the same approval, and an inbox, show the decision', async () => {
    const id = await create({
      title: 'Two must approve',
      approvers: ['lead@example.com', 'pm@example.com'],
      required: 2,
    });
    const gone = await create({
      title: 'Either may approve',
      approvers: ['lead@example.com', 'pm@example.com'],
    });
    const leadContext = await h.signedIn(browser, 'lead@example.com');
    const pmContext = await h.signedIn(browser, 'pm@example.com');
    const [leadPage, pmPage, pmInbox] = await Promise.all([
      leadContext.newPage(),
      pmContext.newPage(),
      pmContext.newPage(),
    ]);
    await openLive(pmPage, `${h.url}/approvals/${id}`);
    await openLive(pmInbox, `${h.url}/`);
    expect(await pmInbox.locator('ul.items a.title').allTextContents()).toEqual([
      'Either may approve',
      'Two must approve',
    ]);
    expect(await pmPage.locator('#progress').textContent()).toContain('0 of 2 approvals');

    await leadPage.goto(`${h.url}/approvals/${id}`);
    await leadPage.getByRole('button', { name: 'Approve' }).click();
    await leadPage.getByRole('status').filter({ hasText: 'Your approval is recorded' }).waitFor();
    await pmPage
      .locator('#progress')
      .filter({ hasText: '1 of 2 approvals · approved by lead@example.com' })
      .waitFor({ timeout: PATIENCE_MS });
    // The form the other person may be typing in stays as it was.
    expect(await pmPage.getByRole('button', { name: 'Approve' }).count()).toBe(1);

    await leadPage.goto(`${h.url}/approvals/${gone}`);
    await leadPage.getByRole('button', { name: 'Approve' }).click();
    await leadPage.getByRole('status').filter({ hasText: 'The request is now approved' }).waitFor();
    await pmInbox
      .locator('#items')
      .filter({ hasNotText: 'Either may approve' })
      .waitFor({ timeout: PATIENCE_MS });
    expect(await pmInbox.locator('ul.items a.title').allTextContents()).toEqual(['Two must approve']);
    await pmInbox.waitForFunction('document.title.startsWith("(1) Inbox")', undefined, {
      timeout: PATIENCE_MS,
    });

    // The approval ends: the other person's page shows the outcome, still without reloading.
    await openLive(leadPage, `${h.url}/approvals/${id}`);
    await pmPage.fill('#comment', 'not this week');
    await pmPage.getByRole('button', { name: 'Reject' }).click();
    await pmPage.getByRole('status').filter({ hasText: 'The request is now rejected' }).waitFor();
    await leadPage.locator('#status').filter({ hasText: 'rejected' }).waitFor({ timeout: PATIENCE_MS });
    expect(await leadPage.locator('#progress').textContent()).toContain('not this week');
    for (const page of [pmInbox, leadPage]) expect(await page.evaluate('window.stillTheSamePage')).toBe(true);
    await leadContext.close();
    await pmContext.close();
  }, 120_000);

  it('an open inbox shows new work for its person, counts it in the tab, and moves it to History once decided', async () => {
    const context = await h.signedIn(browser, 'sre@example.com');
    const [inbox, history] = await Promise.all([context.newPage(), context.newPage()]);
    await openLive(inbox, `${h.url}/`);
    await openLive(history, `${h.url}/?tab=history`);
    const before = await inbox.title();
    // Asked of someone else: the SRE's inbox has no reason to change.
    await create({ title: 'Not for the SRE', approvers: ['pm@example.com'] });
    const id = await create({ title: 'Rotate the database password', approvers: ['sre@example.com'] });
    await inbox
      .locator('ul.items a.title')
      .filter({ hasText: 'Rotate the database password' })
      .waitFor({ timeout: PATIENCE_MS });
    expect(await inbox.locator('ul.items a.title').allTextContents()).not.toContain('Not for the SRE');
    const count = (title: string) => Number(/^\((\d+)\+?\)/.exec(title)?.[1]);
    await inbox.waitForFunction(`document.title.startsWith("(${count(before) + 1}")`, undefined, {
      timeout: PATIENCE_MS,
    });

    // Decided elsewhere (the API, as the SRE): it leaves Waiting and shows in History.
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: await h.keyFor('sre@example.com', ['approvals:decide']),
      payload: { verdict: 'approve' },
    });
    expect(decided.statusCode).toBe(201);
    await inbox
      .locator('#items')
      .filter({ hasNotText: 'Rotate the database password' })
      .waitFor({ timeout: PATIENCE_MS });
    await history
      .locator('ul.items a.title')
      .filter({ hasText: 'Rotate the database password' })
      .waitFor({ timeout: PATIENCE_MS });
    for (const page of [inbox, history]) expect(await page.evaluate('window.stillTheSamePage')).toBe(true);
    await context.close();
  }, 120_000);
});

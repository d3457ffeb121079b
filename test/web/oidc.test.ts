import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startWebHarness, type WebHarness } from '../helpers/browser.js';
import { approvalBody } from '../helpers/harness.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc.js';

let browser: Browser;
let provider: TestProvider;
let h: WebHarness;

beforeAll(async () => {
  [browser, provider] = await Promise.all([launchBrowser(), startTestProvider()]);
  h = await startWebHarness((url) => {
    const client = provider.registerWebClient(`${url}/sign-in/callback`);
    return {
      SIGNOFF_WEB_OIDC_ISSUER: provider.issuer,
      SIGNOFF_WEB_OIDC_CLIENT_ID: client.clientId,
      SIGNOFF_WEB_OIDC_CLIENT_SECRET: client.clientSecret,
    };
  });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await provider?.close();
});

/** Signs in at the provider's own login and consent pages as `account`; returns the inbox page. */
async function signIn(context: BrowserContext, account: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${h.url}/`);
  await page.getByRole('button', { name: 'Sign in with your identity provider' }).click();
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.href.startsWith(h.url) || url.pathname.includes('/interaction/'));
  if (!page.url().startsWith(h.url)) await page.click('button[type=submit]');
  await page.waitForURL(`${h.url}/`);
  return page;
}

describe('signing in through the identity provider', () => {
  it('maps the id token to the person and their groups, who then decide as themselves', async () => {
    provider.addPerson({ account: 'lead-1', email: 'Lead@Example.com', groups: ['ops'] });
    const create = (body: Record<string, unknown>) =>
      h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody({ notify: [], ...body }) });
    const forOps = (await create({ title: 'Ops decides', approvers: ['group:ops'] })).json().id;
    await create({ title: 'Not for ops', approvers: ['group:finance'] });

    const context = await browser.newContext();
    const page = await signIn(context, 'lead-1');

    expect(await page.locator('header.top').textContent()).toContain('Signed in as lead@example.com');
    expect(await page.locator('ul.items a.title').allTextContents()).toEqual(['Ops decides']);
    const cookie = (await context.cookies()).find((c) => c.name === 'signoff');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // The state, nonce and verifier the browser carried are gone once used.
    expect((await context.cookies()).some((c) => c.name === 'signoff_oidc')).toBe(false);

    await page.getByRole('link', { name: 'Ops decides' }).click();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: 'The request is now approved' }).waitFor();
    const approval = (await h.api({ method: 'GET', url: `/v1/approvals/${forOps}` })).json();
    expect(approval.decisions).toEqual([
      expect.objectContaining({ actor: 'lead@example.com', verdict: 'approve', via: 'ui' }),
    ]);
    await context.close();
  }, 120_000);

  it('does not sign in as an email whose id token says email_verified "false"', async () => {
    // Some providers send the claim as a string; "false" must not read as verified.
    provider.addPerson({
      account: 'impostor-1',
      email: 'cfo@example.com',
      groups: ['finance'],
      email_verified: 'false',
    });
    const id = (
      await h.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody({ notify: [], title: 'For the CFO', approvers: ['cfo@example.com'] }),
      })
    ).json().id;

    const context = await browser.newContext();
    const page = await signIn(context, 'impostor-1');
    const header = await page.locator('header.top').textContent();
    expect(header).toContain('Signed in as subject:impostor-1');
    expect(header).not.toContain('cfo@example.com');
    expect(await page.locator('ul.items a.title').allTextContents()).toEqual([]);

    // Nor can it decide there by going to the approval itself.
    await page.goto(`${h.url}/approvals/${id}`);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json().status).toBe('pending');
    await context.close();
  }, 120_000);

  it('refuses a callback this browser did not start', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${h.url}/sign-in/callback?code=stolen&state=guessed`);
    expect(response?.status()).toBe(400);
    await page.close();
  });
});

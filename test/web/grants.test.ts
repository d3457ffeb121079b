import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  scrollsSideways,
  seriousViolations,
  startWebHarness,
  type WebHarness,
} from '../helpers/browser.js';

// A standing grant made on the approval page, listed and revoked on the grants page.
let browser: Browser;
let h: WebHarness;
let agent: string;
const action = { tool: 'Bash', arguments: { command: 'terraform apply -target=module.dns' } };

beforeAll(async () => {
  browser = await launchBrowser();
  h = await startWebHarness({ SIGNOFF_GRANT_MAX_USES: '5', SIGNOFF_GRANT_MAX_DURATION: '8h' });
  agent = await h.keyFor('agent@example.com', ['approvals:create']);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function ask(): Promise<{ id: string; status: string }> {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    token: agent,
    payload: { title: 'Agent: apply DNS', approvers: ['lead@example.com'], action },
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

describe('the web app', () => {
  it('approves with a grant, lists it, and revokes it', async () => {
    const first = await ask();
    const context = await h.signedIn(browser, 'lead@example.com');
    const page = await context.newPage();
    await page.goto(`${h.url}/approvals/${first.id}`);
    await page.getByText('Also allow this again').click();
    await page.getByLabel('How many more times (at most 5)').fill('2');
    await page.getByLabel('For').selectOption('1h');
    await page.getByLabel('Any call of Bash').check();
    await page.getByLabel('Exactly this action').check();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Your approval is recorded. The request is now approved.').waitFor();

    expect((await ask()).status).toBe('approved');

    await page.goto(`${h.url}/grants`);
    const item = page.locator('ul.items li');
    await expect(item.textContent()).resolves.toMatch(
      /lead@example\.com allows sha256:\w+ for agent@example\.com/,
    );
    await expect(item.textContent()).resolves.toContain('1 of 2 uses');
    expect(await seriousViolations(page)).toEqual([]);
    expect(await scrollsSideways(page)).toBe(false);
    await item.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText(/is revoked: it approves nothing more/).waitFor();
    await expect(item.textContent()).resolves.toContain('revoked by lead@example.com');

    expect((await ask()).status).toBe('pending');
    await context.close();
  });

  it('offers no grant on an approval that names no action', async () => {
    const own = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: { title: 'Plain deploy', approvers: ['lead@example.com'], notify: [] },
    });
    const context = await h.signedIn(browser, 'lead@example.com');
    const page = await context.newPage();
    await page.goto(`${h.url}/approvals/${own.json().id}`);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    expect(await page.getByText('Also allow this again').count()).toBe(0);
    await context.close();
  });
});

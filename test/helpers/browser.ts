import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startWebSession } from '../../src/sessions/web-sessions.js';
import { type Harness, startHarness } from './harness.js';

/** Debian's Chromium, headless, with nothing reaching beyond loopback. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.SIGNOFF_TEST_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface WebHarness extends Harness {
  /** `http://127.0.0.1:PORT`: where signoff listens, and its SIGNOFF_PUBLIC_URL. */
  readonly url: string;
  /** A browser context already signed in as this person (a session made as sign-in makes one). */
  signedIn(browser: Browser, actor: string, groups?: string[]): Promise<BrowserContext>;
}

/** signoff listening on loopback, its public URL that address, for a browser to visit. */
export async function startWebHarness(
  env: Record<string, string> | ((url: string) => Record<string, string>) = {},
  options: Parameters<typeof startHarness>[1] = {},
): Promise<WebHarness> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const h = await startHarness(
      {
        SIGNOFF_PUBLIC_URL: url,
        ...(typeof env === 'function' ? env(url) : env),
      },
      options,
    );
    try {
      await h.signoff.app.listen({ host: '127.0.0.1', port });
    } catch (error) {
      await h.close();
      // Another suite may take the port between finding and listening: try another.
      if (attempt < 5) continue;
      throw error;
    }
    return {
      ...h,
      url,
      async signedIn(browser, actor, groups = []) {
        const secret = await startWebSession(h.signoff.services, { actor, groups, grants: [] });
        const context = await browser.newContext();
        await context.addCookies([{ name: 'signoff', value: secret, url, httpOnly: true, sameSite: 'Lax' }]);
        return context;
      },
    };
  }
}

const AXE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol: the page's strict CSP stays in force for its own scripts.
  await page.evaluate(AXE);
  const violations = (await page.evaluate(`axe.run().then((result) => result.violations.map((v) => ({
    id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')),
  })))`)) as { id: string; impact: string; targets: string[] }[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.slice(0, 3).join(', ')}`);
}

/** Whether the page scrolls sideways. */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return (await page.evaluate('document.documentElement.scrollWidth > window.innerWidth')) as boolean;
}

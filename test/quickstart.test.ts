import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, runCli, startServerProcess, stopProcess } from './helpers/process.js';
import { eventually } from './helpers/receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'signoff-quickstart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The README's walkthrough, as a new user runs it: nothing configured but a port.
it('serves with nothing configured: prints an admin key and the mailed link; GET shows, POST approves', async () => {
  const env = { SIGNOFF_PORT: '', SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'signoff.db')}` };
  env.SIGNOFF_PORT = String(await freePort());
  const server = await startServerProcess(env);
  try {
    const adminKey = /SIGNOFF_TOKEN=(sk_\S+)/.exec(server.output())?.[1];
    if (!adminKey) throw new Error(`no admin key printed:\n${server.output()}`);
    const created = await fetch(`${server.url}/v1/approvals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Deploy web v2.3.1 to production',
        approvers: ['lead@example.com'],
        timeout: '1h',
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const link = await eventually(() => {
      const found = /http:\/\/127\.0\.0\.1:\d+\/d\/[A-Za-z0-9_-]{43}/.exec(server.output())?.[0];
      if (!found) throw new Error('no link printed yet');
      return found;
    });
    expect(server.output()).toContain('To: lead@example.com');

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Deploy web v2.3.1 to production');
    const still = await runCli(['get', id, '--json'], { SIGNOFF_URL: server.url, SIGNOFF_TOKEN: adminKey });
    expect(JSON.parse(still.stdout).status).toBe('pending');

    const decided = await fetch(link, { method: 'POST', body: new URLSearchParams({ verdict: 'approve' }) });
    expect(decided.status).toBe(200);
    expect(await decided.text()).toContain('now approved');
    const waited = await runCli(['wait', id], { SIGNOFF_URL: server.url, SIGNOFF_TOKEN: adminKey });
    expect(waited.code).toBe(0);
  } finally {
    await stopProcess(server.child, 'SIGTERM');
  }
  // A second start reuses the admin key and prints none.
  const again = await startServerProcess({ ...env, SIGNOFF_PORT: String(await freePort()) });
  await stopProcess(again.child, 'SIGTERM');
  expect(again.output()).not.toContain('SIGNOFF_TOKEN=');
});

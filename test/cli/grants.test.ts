import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';

// The command line's way to a standing grant: approve with one, list them, revoke one.
let h: Harness;
let env: Record<string, string>;
let agent: string;
let lead: string;
const action = { tool: 'Bash', arguments: { command: 'kubectl delete pod web-1' } };

beforeAll(async () => {
  h = await startHarness(
    { SIGNOFF_GRANT_MAX_USES: '5', SIGNOFF_GRANT_MAX_DURATION: '1h' },
    { workers: false },
  );
  env = { SIGNOFF_URL: await h.signoff.app.listen({ host: '127.0.0.1', port: 0 }) };
  agent = await h.keyFor('agent@example.com', ['approvals:create', 'approvals:read']);
  lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);
});
afterAll(async () => h.close());

async function ask() {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    token: agent,
    payload: { title: 'Agent: delete a pod', approvers: ['lead@example.com'], action },
  });
  return res.json();
}

describe('signoff approve --grant-uses, signoff grants', () => {
  it('approves with a grant, lists it for granter and requester, and revokes it', async () => {
    const first = await ask();
    const approved = await runCli(['approve', first.id, '--grant-uses', '2', '--grant-for', '30m'], {
      ...env,
      SIGNOFF_TOKEN: lead,
    });
    expect(approved.code).toBe(0);
    expect((await ask()).status).toBe('approved');

    const listed = await runCli(['grants', 'list', '--json'], { ...env, SIGNOFF_TOKEN: agent });
    expect(listed.code).toBe(0);
    const [grant] = JSON.parse(listed.stdout).items;
    expect(grant).toMatchObject({ approvalId: first.id, granter: 'lead@example.com', uses: 1, maxUses: 2 });
    const table = await runCli(['grants', 'list'], { ...env, SIGNOFF_TOKEN: lead });
    expect(table.stdout).toMatch(new RegExp(`${grant.id}\\s+yes\\s+1/2`));

    const revoked = await runCli(['grants', 'revoke', grant.id], { ...env, SIGNOFF_TOKEN: lead });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`${grant.id} revoked: 1 of 2 uses were made`);
    expect((await ask()).status).toBe('pending');
  });

  it('refuses half a grant before asking the server', async () => {
    const pending = await ask();
    const half = await runCli(['approve', pending.id, '--grant-uses', '2'], { ...env, SIGNOFF_TOKEN: lead });
    expect(half.code).not.toBe(0);
    expect(half.stderr).toContain('a standing grant needs both --grant-uses and --grant-for');
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${pending.id}` })).json().status).toBe(
      'pending',
    );
  });
});

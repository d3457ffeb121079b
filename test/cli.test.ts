import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from './helpers/harness.js';
import { runCli } from './helpers/process.js';
import { delay } from './helpers/receiver.js';

let h: Harness;
let env: Record<string, string>;
let lead: string;

beforeAll(async () => {
  h = await startHarness();
  const url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  env = { SIGNOFF_URL: url, SIGNOFF_TOKEN: h.adminKey };
  lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);
});
afterAll(async () => h.close());

async function create(overrides: Record<string, unknown> = {}) {
  return (
    await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody({ notify: [], ...overrides }) })
  ).json();
}

describe('signoff wait', () => {
  it('exits 0 when approved, showing elapsed time and who decided', async () => {
    const approval = await create({ approvers: ['lead@example.com', 'pm@example.com'], required: 1 });
    const waiting = runCli(['wait', approval.id], env);
    await delay(500);
    const decided = await runCli(['approve', approval.id, '--comment', 'ok'], {
      ...env,
      SIGNOFF_TOKEN: lead,
    });
    expect(decided.code).toBe(0);
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`waiting for ${approval.id}`);
    expect(result.stderr).toContain('approved after');
    expect(result.stderr).toContain('lead@example.com');
  });

  it('exits 1 when rejected', async () => {
    const approval = await create();
    const waiting = runCli(['wait', approval.id], env);
    await delay(300);
    expect((await runCli(['reject', approval.id], { ...env, SIGNOFF_TOKEN: lead })).code).toBe(0);
    expect((await waiting).code).toBe(1);
  });

  it('exits 2 when cancelled or expired', async () => {
    const cancelled = await create();
    const waiting = runCli(['wait', cancelled.id], env);
    await delay(300);
    expect((await runCli(['cancel', cancelled.id, '--reason', 'superseded'], env)).code).toBe(0);
    expect((await waiting).code).toBe(2);
    const expiring = await create({ timeout: '1s' });
    expect((await runCli(['wait', expiring.id], env)).code).toBe(2);
  });

  it('exits 3 on an unknown approval, a bad token or an unreachable server', async () => {
    expect((await runCli(['wait', 'apr_00000000000000000000000000'], env)).code).toBe(3);
    expect(
      (
        await runCli(['wait', 'apr_00000000000000000000000000'], {
          ...env,
          SIGNOFF_TOKEN: 'sk_wrong_wrong_wrong_wrong_wrong',
        })
      ).code,
    ).toBe(3);
    const unreachable = await runCli(['get', 'apr_x'], { ...env, SIGNOFF_URL: 'http://127.0.0.1:1' });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('Is it running?');
  });
});

describe('signoff create, get, ls', () => {
  it('creates and waits in one command', async () => {
    const waiting = runCli(
      ['create', '--title', 'CLI deploy', '--approver', 'lead@example.com', '--timeout', '1h', '--wait'],
      env,
    );
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      await delay(100);
      const page = (await h.api({ method: 'GET', url: '/v1/approvals?status=pending&limit=100' })).json();
      id = page.items.find((a: { title: string }) => a.title === 'CLI deploy')?.id;
    }
    if (!id) throw new Error('create did not create');
    await runCli(['approve', id], { ...env, SIGNOFF_TOKEN: lead });
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(id);
    const got = await runCli(['get', id], env);
    expect(JSON.parse(got.stdout)).toMatchObject({ id, status: 'approved', decisions: [{ via: 'cli' }] });
    const listed = await runCli(['ls', '--status', 'approved'], env);
    expect(listed.stdout).toContain(id);
  });

  it('refuses a create with no approver', async () => {
    const result = await runCli(['create', '--title', 'x'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--approver');
  });
});

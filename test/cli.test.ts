import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approvalBody, type Harness, startHarness } from './helpers/harness.js';
import { type CliRun, runCli, startCli } from './helpers/process.js';
import { PATIENCE_MS } from './helpers/receiver.js';

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

/**
 * Starts `signoff wait` (or another waiting command) and resolves once its long poll is
 * waiting in the server for a change of `approval` (the id, or read from the command's
 * "created" line), so what the test does next wakes it.
 */
async function startWaiting(args: string[], approval?: string): Promise<{ run: CliRun; id: string }> {
  const subscribe = vi.spyOn(h.signoff.services.changes, 'subscribe');
  try {
    const run = startCli(args, env);
    const id = approval ?? (await run.stderrMatching(/created (apr_\w+)/))[1];
    if (!id) throw new Error('no approval id');
    await vi.waitFor(() => expect(subscribe).toHaveBeenCalledWith(id, expect.any(Function)), {
      timeout: PATIENCE_MS,
      interval: 20,
    });
    return { run, id };
  } finally {
    subscribe.mockRestore();
  }
}

describe('signoff wait', () => {
  it('exits 0 when approved, showing elapsed time and who decided', async () => {
    const approval = await create({ approvers: ['lead@example.com', 'pm@example.com'], required: 1 });
    const { run } = await startWaiting(['wait', approval.id], approval.id);
    const decided = await runCli(['approve', approval.id, '--comment', 'ok'], {
      ...env,
      SIGNOFF_TOKEN: lead,
    });
    expect(decided.code).toBe(0);
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`waiting for ${approval.id}`);
    expect(result.stderr).toContain('approved after');
    expect(result.stderr).toContain('lead@example.com');
  });

  it('exits 1 when rejected', async () => {
    const approval = await create();
    const { run } = await startWaiting(['wait', approval.id], approval.id);
    expect((await runCli(['reject', approval.id], { ...env, SIGNOFF_TOKEN: lead })).code).toBe(0);
    expect((await run.done).code).toBe(1);
  });

  it('exits 2 when cancelled or expired', async () => {
    const cancelled = await create();
    const { run } = await startWaiting(['wait', cancelled.id], cancelled.id);
    expect((await runCli(['cancel', cancelled.id, '--reason', 'superseded'], env)).code).toBe(0);
    expect((await run.done).code).toBe(2);
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
    const { run, id } = await startWaiting([
      'create',
      '--title',
      'CLI deploy',
      '--approver',
      'lead@example.com',
      '--timeout',
      '1h',
      '--wait',
    ]);
    const stored = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
    expect(stored).toMatchObject({ title: 'CLI deploy', status: 'pending' });
    await runCli(['approve', id], { ...env, SIGNOFF_TOKEN: lead });
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(id);
    const got = await runCli(['get', id, '--json'], env);
    expect(JSON.parse(got.stdout)).toMatchObject({ id, status: 'approved', decisions: [{ via: 'cli' }] });
    const shown = await runCli(['get', id], env);
    expect(shown.stdout).toContain(`${id}  approved  CLI deploy`);
    expect(shown.stdout).toContain('lead@example.com approved');
    const listed = await runCli(['ls', '--status', 'approved'], env);
    const [header, ...rows] = listed.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+AGE\s+REQUESTER\s+TITLE$/);
    expect(rows.find((row) => row.startsWith(id))).toMatch(/approved\s+\d+[smhd]\s+\S+\s+CLI deploy$/);
    const json = await runCli(['ls', '--status', 'approved', '--json'], env);
    expect(JSON.parse(json.stdout).items.map((a: { id: string }) => a.id)).toContain(id);
  });

  it('prints the created approval, and the decided one, as JSON', async () => {
    const created = await runCli(['create', '-t', 'JSON deploy', '-a', 'lead@example.com', '--json'], env);
    expect(created.code).toBe(0);
    const approval = JSON.parse(created.stdout);
    expect(approval).toMatchObject({ title: 'JSON deploy', status: 'pending' });
    const waiting = await runCli(['ls', '--waiting-for-me', '--json'], { ...env, SIGNOFF_TOKEN: lead });
    expect(JSON.parse(waiting.stdout).items.map((a: { id: string }) => a.id)).toContain(approval.id);
    await runCli(['reject', approval.id], { ...env, SIGNOFF_TOKEN: lead });
    const waited = await runCli(['wait', approval.id, '--json'], env);
    expect(waited.code).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id: approval.id, status: 'rejected' });
  });

  it('names who is still needed and when it expires while waiting', async () => {
    const approval = await create({ approvers: ['lead@example.com', 'pm@example.com'], required: 2 });
    const { run } = await startWaiting(['wait', approval.id], approval.id);
    await run.stderrMatching(/Gate: 0 of 2 approvals · still asked: lead@example\.com, pm@example\.com/);
    await runCli(['approve', approval.id], { ...env, SIGNOFF_TOKEN: lead });
    await run.stderrMatching(
      /Gate: 1 of 2 approvals · approved by lead@example\.com · still asked: pm@example\.com\n {2}decided: lead@example\.com approved · decide by \w{3} \d+ \w{3} \d{4}, \d\d:\d\d UTC/,
    );
    await runCli(['cancel', approval.id], env);
    expect((await run.done).code).toBe(2);
  });

  it('prints its version, and examples and exit codes in every help', async () => {
    const version = await runCli(['--version'], {});
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    for (const command of [
      ['create'],
      ['wait'],
      ['ls'],
      ['get'],
      ['audit', 'verify'],
      ['check'],
      ['serve'],
    ]) {
      const help = await runCli([...command, '--help'], {});
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain('3  anything else: usage errors');
    }
  });

  it('refuses a create with no approver', async () => {
    const result = await runCli(['create', '--title', 'x'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--approver');
  });
});

describe('usage errors', () => {
  it.each([
    [['ls', '--no-such-option'], "error: unknown option '--no-such-option' (see signoff ls --help)"],
    [
      ['create', '-a', 'lead@example.com'],
      "error: required option '-t, --title <title>' not specified (see signoff create --help)",
    ],
    [
      ['create', '--title', 'x'],
      'error: give at least one --approver, or a --policy (not both) (see signoff create --help)',
    ],
    [['wait', 'apr_1', '--timeout', 'soon'], /^error: option .*--timeout.* \(see signoff wait --help\)$/],
    [['keys', 'revoke'], "error: missing required argument 'id' (see signoff keys revoke --help)"],
    [['nope'], /^error: unknown command 'nope'.* \(see signoff --help\)$/],
  ])('%j answers one line naming its help, exit 3', async (args, line) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof line === 'string') expect(lines[0]).toBe(line);
    else expect(lines[0]).toMatch(line);
  });

  it('answers `signoff` alone with its help, as a usage error', async () => {
    const bare = await runCli([], env);
    expect(bare.code).toBe(3);
    expect(bare.stderr).toContain('Usage: signoff');
    expect(bare.stderr).toContain('Examples:');
    const keys = await runCli(['keys'], env);
    expect(keys.code).toBe(3);
    expect(keys.stderr).toContain('Usage: signoff keys');
    const asked = await runCli(['--help'], env);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain('Usage: signoff');
  });
});

describe('signoff approve with several ids', () => {
  it('decides each on its own, tells each refusal, and exits 3 when any was refused', async () => {
    const a = await create({ requester: 'dev@example.com' });
    const b = await create({ requester: 'dev@example.com' });
    const own = await create({
      requester: 'lead@example.com',
      approvers: ['lead@example.com', 'pm@example.com'],
    });
    const result = await runCli(['approve', a.id, own.id, b.id, '--comment', 'the batch'], {
      ...env,
      SIGNOFF_TOKEN: lead,
    });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(`${a.id}  approved`);
    expect(result.stdout).toContain(`${b.id}  approved`);
    expect(result.stderr).toContain(
      `error: ${own.id}: The requester may not approve their own request. (self_approval)`,
    );
    const left = (await h.api({ method: 'GET', url: `/v1/approvals/${own.id}` })).json();
    expect(left).toMatchObject({ status: 'pending', decisions: [] });
  });
});

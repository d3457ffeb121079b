import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_POLICY } from '../helpers/agents.js';
import { startWebHarness, type WebHarness } from '../helpers/browser.js';
import { type CliResult, startCli } from '../helpers/process.js';

let h: WebHarness;
let dir: string;
let agentKey: string;
let leadKey: string;

/** PreToolUse input as Claude Code sends it on the hook's stdin. */
function preToolUse(toolName: string, toolInput: Record<string, unknown>, toolUseId: string) {
  return JSON.stringify({
    session_id: 'c0ffee00-1234-4e5f-8a9b-0123456789ab',
    transcript_path: '/home/dev/.claude/projects/shop/c0ffee00.jsonl',
    cwd: '/home/dev/shop',
    permission_mode: 'default',
    hook_event_name: 'PreToolUse',
    tool_name: toolName,
    tool_input: toolInput,
    tool_use_id: toolUseId,
  });
}

function hook(input: string, wait = '2m') {
  return startCli(
    ['hook', 'claude-code', '--policy', 'agent', '--wait', wait],
    { SIGNOFF_URL: h.url, SIGNOFF_TOKEN: agentKey },
    120_000,
    input,
  );
}

function decisionOf(result: CliResult) {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout).hookSpecificOutput as {
    hookEventName: string;
    permissionDecision: string;
    permissionDecisionReason: string;
  };
}

async function approvalCount(): Promise<number> {
  return (await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json().items.length;
}

/** Decides the approval the running hook asked for, as a person with their own key. */
async function decide(run: ReturnType<typeof hook>, verdict: 'approve' | 'reject', comment: string) {
  const [, id] = await run.stderrMatching(/signoff: (apr_\w+) asks people/);
  const res = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    token: leadKey,
    payload: { verdict, comment },
  });
  expect(res.statusCode).toBe(201);
  return id as string;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-hook-'));
  writeFileSync(join(dir, 'policies.yaml'), AGENT_POLICY);
  h = await startWebHarness({ SIGNOFF_POLICIES: join(dir, 'policies.yaml') });
  agentKey = await h.keyFor(null, ['approvals:create', 'approvals:read']);
  leadKey = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signoff hook claude-code', () => {
  it('lets a tool the policy allows pass at once, creating no approval', async () => {
    const before = await approvalCount();
    const result = decisionOf(await hook(preToolUse('Read', { file_path: 'src/app.ts' }, 'toolu_read')).done);
    expect(result).toEqual({
      hookEventName: 'PreToolUse',
      permissionDecision: 'allow',
      permissionDecisionReason: 'signoff: Reading changes nothing',
    });
    expect(await approvalCount()).toBe(before);
  });

  it('asks people about a gated command and allows it once a person approved that very call', async () => {
    const run = hook(
      preToolUse('Bash', { command: 'kubectl delete namespace shop', timeout: 120000 }, 'toolu_k'),
    );
    const id = await decide(run, 'approve', 'the namespace is empty');
    const result = decisionOf(await run.done);
    expect(result.permissionDecision).toBe('allow');
    expect(result.permissionDecisionReason).toBe(
      `signoff: ${id} approved (lead@example.com: the namespace is empty)`,
    );
    const approval = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
    expect(approval).toMatchObject({
      title: 'Bash: kubectl delete namespace shop',
      action: { tool: 'Bash', arguments: { command: 'kubectl delete namespace shop', timeout: 120000 } },
      metadata: { agent: 'claude-code', session: 'c0ffee00-1234-4e5f-8a9b-0123456789ab' },
    });
  });

  it('denies a rejected command with the reason the person gave', async () => {
    const run = hook(preToolUse('Bash', { command: 'terraform apply -auto-approve' }, 'toolu_tf'));
    const id = await decide(run, 'reject', 'use the staging database');
    const result = decisionOf(await run.done);
    expect(result.permissionDecision).toBe('deny');
    expect(result.permissionDecisionReason).toBe(
      `signoff: ${id} rejected (lead@example.com: use the staging database)`,
    );
  });

  it('answers ask when nobody decides within its wait, and the approval stays open', async () => {
    const run = hook(preToolUse('Bash', { command: 'rm -rf node_modules' }, 'toolu_rm'), '2s');
    const [, id] = await run.stderrMatching(/signoff: (apr_\w+) asks people/);
    const result = decisionOf(await run.done);
    expect(result.permissionDecision).toBe('ask');
    expect(result.permissionDecisionReason).toContain(id);
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json().status).toBe('pending');
  });

  it('fails closed: a server it cannot reach denies', async () => {
    const run = startCli(
      ['hook', 'claude-code', '--policy', 'agent'],
      { SIGNOFF_URL: 'http://127.0.0.1:9', SIGNOFF_TOKEN: agentKey },
      60_000,
      preToolUse('Bash', { command: 'rm -rf /' }, 'toolu_down'),
    );
    const result = decisionOf(await run.done);
    expect(result.permissionDecision).toBe('deny');
    expect(result.permissionDecisionReason).toContain('could not ask for approval');
  });
});

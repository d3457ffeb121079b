import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_POLICY } from '../helpers/agents.js';
import { startWebHarness, type WebHarness } from '../helpers/browser.js';
import { BIN } from '../helpers/process.js';
import { linkIn, startSmtpServer } from '../helpers/smtp.js';

let h: WebHarness;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let dir: string;
let agentKey: string;
let agent: Client;

const TOOLS = [
  'approval_prompt',
  'cancel_approval',
  'check_policy',
  'get_approval',
  'list_my_approvals',
  'request_approval',
  'wait_for_decision',
];

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  return (await client.callTool({ name, arguments: args })) as ToolAnswer;
}

/** Decides by the link mailed to `to` about `title`, as a person would from their phone. */
async function decideByLink(title: string, to: string, verdict: 'approve' | 'reject', comment: string) {
  const [mail] = await smtp.waitForMails((m) => m.to.includes(to) && m.subject.includes(title));
  if (!mail) throw new Error('no mail');
  const response = await fetch(linkIn(mail), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ verdict, comment }).toString(),
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-mcp-'));
  writeFileSync(join(dir, 'policies.yaml'), AGENT_POLICY);
  smtp = await startSmtpServer();
  h = await startWebHarness({ SIGNOFF_SMTP_URL: smtp.url, SIGNOFF_POLICIES: join(dir, 'policies.yaml') });
  // The agent's key could also decide through the API: MCP must give it no way to.
  agentKey = await h.keyFor(null, ['approvals:create', 'approvals:read', 'approvals:decide']);
  agent = await connect(`${h.url}/mcp?policy=agent`, agentKey);
});
afterAll(async () => {
  await agent?.close();
  await h?.close();
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the MCP server over Streamable HTTP', () => {
  it('lists the agent tools, each with a schema, a description and annotations, and none that decides', async () => {
    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.description?.length).toBeGreaterThan(20);
      expect(tool.annotations).toEqual(expect.objectContaining({ readOnlyHint: expect.any(Boolean) }));
    }
    // There is no tool that decides, whatever the credential holds.
    const approve = await agent.callTool({ name: 'approve', arguments: { id: 'apr_x' } });
    expect(approve.isError).toBe(true);
  });

  it('asks, lets a person approve by link, and hands the agent the verdict, the decider and the comment', async () => {
    const action = { tool: 'Bash', arguments: { command: 'kubectl delete namespace shop' } };
    const asked = await call(agent, 'request_approval', { title: 'Delete the shop namespace', action });
    expect(asked.isError).toBeFalsy();
    const approval = asked.structuredContent as {
      id: string;
      status: string;
      url: string;
      actionHash: string;
    };
    expect(approval).toMatchObject({
      status: 'pending',
      url: `${h.url}/approvals/${approval.id}`,
      actionHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    // The person reads the action in full, and its hash, in the mail and on the page.
    const [mail] = await smtp.waitForMails((m) => m.subject.includes('Delete the shop namespace'));
    expect(mail?.text).toContain(approval.actionHash);
    expect(mail?.text).toContain('"command": "kubectl delete namespace shop"');
    const page = await (await fetch(linkIn(mail as Parameters<typeof linkIn>[0]))).text();
    expect(page).toContain(approval.actionHash);
    expect(page).toContain('kubectl delete namespace shop');
    const waiting = call(agent, 'wait_for_decision', { id: approval.id });
    await decideByLink('Delete the shop namespace', 'lead@example.com', 'approve', 'go ahead, it is empty');
    const decided = await waiting;
    expect(decided.structuredContent).toMatchObject({
      status: 'approved',
      actionHash: approval.actionHash,
      decisions: [
        { actor: 'lead@example.com', verdict: 'approve', comment: 'go ahead, it is empty', via: 'link' },
      ],
    });
    expect(decided.content[0]?.text).toContain('lead@example.com: "go ahead, it is empty"');
    const read = await call(agent, 'get_approval', { id: approval.id });
    expect(read.structuredContent).toMatchObject({ status: 'approved' });
  });

  it('hands a rejection and its reason to the agent', async () => {
    const asked = await call(agent, 'request_approval', {
      title: 'Migrate production',
      action: { tool: 'Bash', arguments: { command: 'terraform apply -auto-approve' } },
    });
    const id = (asked.structuredContent as { id: string }).id;
    await decideByLink('Migrate production', 'lead@example.com', 'reject', 'use the staging database');
    const decided = await call(agent, 'wait_for_decision', { id });
    expect(decided.structuredContent).toMatchObject({
      status: 'rejected',
      decisions: [{ verdict: 'reject', comment: 'use the staging database' }],
    });
    expect(decided.content[0]?.text).toMatch(
      /rejected by lead@example.com: "use the staging database". Do not/,
    );
  });

  it('returns the same approval for a retry, and refuses other arguments under the same key', async () => {
    const ask = (command: string) =>
      call(agent, 'request_approval', {
        title: 'Drop a table',
        action: { tool: 'Bash', arguments: { command } },
        idempotencyKey: 'tool-use-7',
      });
    const first = await ask('rm -rf /var/lib/app/cache');
    const again = await ask('rm -rf /var/lib/app/cache');
    expect((again.structuredContent as { id: string }).id).toBe(
      (first.structuredContent as { id: string }).id,
    );
    const other = await ask('rm -rf /var/lib/app');
    expect(other.isError).toBe(true);
    expect(other.structuredContent).toMatchObject({ error: { code: 'idempotency_conflict' } });
  });

  it('checks the policy without asking, lists and cancels what it asked for', async () => {
    const read = await call(agent, 'check_policy', {
      title: 'Read',
      action: { tool: 'Read', arguments: { file_path: 'a' } },
    });
    expect(read.structuredContent).toMatchObject({ outcome: 'approved', reason: 'Reading changes nothing' });
    const rm = await call(agent, 'check_policy', {
      title: 'rm',
      action: { tool: 'Bash', arguments: { command: 'rm -rf /' } },
    });
    expect(rm.structuredContent).toMatchObject({ outcome: 'needs_review', approvers: ['lead@example.com'] });
    const asked = await call(agent, 'request_approval', {
      title: 'Cancel me',
      approvers: ['lead@example.com'],
    });
    const id = (asked.structuredContent as { id: string }).id;
    const mine = await call(agent, 'list_my_approvals', { status: 'pending' });
    expect((mine.structuredContent as { items: { id: string }[] }).items.map((i) => i.id)).toContain(id);
    const cancelled = await call(agent, 'cancel_approval', { id, reason: 'not needed' });
    expect(cancelled.structuredContent).toMatchObject({ status: 'cancelled' });
  });

  it('gives an agent that is itself an approver no way to approve what it asked', async () => {
    // The key names lead@example.com, an approver of the policy, and holds approvals:decide.
    const leadAgent = await connect(
      `${h.url}/mcp?policy=agent`,
      await h.keyFor('lead@example.com', ['approvals:create', 'approvals:read', 'approvals:decide']),
    );
    const asked = await call(leadAgent, 'request_approval', {
      title: 'Wipe the server',
      action: { tool: 'Bash', arguments: { command: 'rm -rf /srv' } },
    });
    const id = (asked.structuredContent as { id: string }).id;
    // Every tool that takes an approval, with this one: none of them decides it.
    for (const [name, args] of [
      ['get_approval', { id }],
      ['wait_for_decision', { id, timeoutSeconds: 1 }],
      ['list_my_approvals', {}],
      ['check_policy', { title: 'Wipe', action: { tool: 'Bash', arguments: { command: 'rm -rf /srv' } } }],
    ] as const)
      expect((await call(leadAgent, name, args)).isError, name).toBeFalsy();
    const read = await call(leadAgent, 'get_approval', { id });
    expect(read.structuredContent).toMatchObject({ status: 'pending', decisions: [] });
    await leadAgent.close();
  });

  it('answers an unauthenticated request 401 with where to sign in', async () => {
    const response = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toBe(`Bearer resource_metadata="${h.url}/.well-known/oauth-protected-resource/mcp"`);
    const metadata = await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(metadata).toMatchObject({ resource: `${h.url}/mcp`, bearer_methods_supported: ['header'] });
    const reader = await h.keyFor(null, ['approvals:decide']);
    const decider = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${reader}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(decider.status).toBe(403);
  });
});

describe('the permission prompt tool', () => {
  it('allows what the policy allows at once, and what a person approved, with the input unchanged', async () => {
    const read = await call(agent, 'approval_prompt', {
      tool_name: 'Read',
      input: { file_path: 'README.md' },
    });
    expect(JSON.parse(read.content[0]?.text ?? '')).toEqual({
      behavior: 'allow',
      updatedInput: { file_path: 'README.md' },
    });
    const input = { command: 'kubectl delete deployment web' };
    const prompting = call(agent, 'approval_prompt', { tool_name: 'Bash', input, tool_use_id: 'toolu_1' });
    await decideByLink('Bash: kubectl delete deployment web', 'lead@example.com', 'approve', 'ok');
    expect(JSON.parse((await prompting).content[0]?.text ?? '')).toEqual({
      behavior: 'allow',
      updatedInput: input,
    });
  });
});

describe('the MCP server over stdio (signoff mcp)', () => {
  it('carries the same tools to the same server with SIGNOFF_URL and SIGNOFF_TOKEN', async () => {
    const client = new Client({ name: 'stdio-agent', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', '--policy', 'agent'],
        env: { SIGNOFF_URL: h.url, SIGNOFF_TOKEN: agentKey, PATH: process.env.PATH ?? '' },
        stderr: 'pipe',
      }),
    );
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(TOOLS);
      const asked = await call(client, 'request_approval', {
        title: 'From stdio',
        action: { tool: 'Bash', arguments: { command: 'rm -rf build' } },
      });
      const id = (asked.structuredContent as { id: string }).id;
      await decideByLink('From stdio', 'lead@example.com', 'reject', 'keep the build');
      expect((await call(client, 'wait_for_decision', { id })).structuredContent).toMatchObject({
        status: 'rejected',
        decisions: [{ actor: 'lead@example.com', comment: 'keep the build' }],
      });
    } finally {
      await client.close();
    }
  }, 60_000);
});

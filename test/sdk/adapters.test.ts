import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as aiSdk from '../../sdk/src/adapters/ai-sdk.js';
import * as openaiAgents from '../../sdk/src/adapters/openai-agents.js';
import { type Approval, createSignoff, type SignoffClient } from '../../sdk/src/index.js';
import { AGENT_POLICY } from '../helpers/agents.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { startProxy } from '../helpers/proxy.js';

// The adapters are tested against the shapes the two SDKs document (RunToolApprovalItem and
// RunState of @openai/agents, the tool-approval-request part of `ai`), not the packages
// themselves: the SDK depends on neither.

let h: Harness;
let dir: string;
let url: string;
let agentKey: string;
let signoff: SignoffClient;
let leadKey: string;

async function decide(approval: Approval, verdict: 'approve' | 'reject', comment: string) {
  const res = await fetch(`${url}/v1/approvals/${approval.id}/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${leadKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict, comment }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** The lead rejects what touches production and approves the rest. */
async function leadDecides(approval: Approval) {
  const command = String((approval.action?.arguments as { command?: unknown } | undefined)?.command);
  if (command.includes('prod')) await decide(approval, 'reject', 'not production, use staging');
  else await decide(approval, 'approve', 'fine');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-sdk-adapters-'));
  writeFileSync(join(dir, 'policies.yaml'), AGENT_POLICY);
  h = await startHarness({ SIGNOFF_POLICIES: join(dir, 'policies.yaml') });
  url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  agentKey = await h.keyFor(null, ['approvals:create', 'approvals:read']);
  signoff = createSignoff({ url, token: agentKey });
  leadKey = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A function tool's RunToolApprovalItem as @openai/agents builds it. */
function approvalItem(callId: string, command: string): openaiAgents.ToolApprovalItem {
  return {
    type: 'tool_approval_item',
    rawItem: { type: 'function_call', name: 'Bash', callId, arguments: JSON.stringify({ command }) },
    name: 'Bash',
  };
}

/** What a RunState records of approve and reject. */
function runState() {
  const approved: string[] = [];
  const rejected: { callId: string; message: string | undefined }[] = [];
  return {
    approved,
    rejected,
    approve: (item: openaiAgents.ToolApprovalItem) => approved.push(item.rawItem.callId ?? ''),
    reject: (item: openaiAgents.ToolApprovalItem, options?: { message?: string }) =>
      rejected.push({ callId: item.rawItem.callId ?? '', message: options?.message }),
  };
}

describe('the OpenAI Agents SDK adapter', () => {
  it("needs approval unless the policy's rules pass the call, creating nothing", async () => {
    const needsApproval = openaiAgents.needsApprovalFrom(signoff, { tool: 'Bash', policy: 'agent' });
    const before = (await h.api({ method: 'GET', url: '/v1/approvals' })).json().items.length;
    expect(await needsApproval({}, { command: 'ls -la' }, 'call_ls')).toBe(false);
    expect(await needsApproval({}, { command: 'kubectl delete namespace shop' }, 'call_k')).toBe(true);
    expect((await h.api({ method: 'GET', url: '/v1/approvals' })).json().items.length).toBe(before);
  });

  it("applies people's decisions to the run's interruptions, with the reason the model reads", async () => {
    const state = runState();
    const outcomes = await openaiAgents.answerInterruptions(
      signoff,
      {
        interruptions: [
          approvalItem('call_shop', 'kubectl delete namespace shop'),
          approvalItem('call_prod', 'kubectl delete namespace prod'),
        ],
        state,
      },
      { policy: 'agent', onAsked: leadDecides },
    );
    expect(outcomes.map((o) => o.outcome)).toEqual(['approved', 'refused']);
    expect(state.approved).toEqual(['call_shop']);
    expect(state.rejected).toEqual([
      {
        callId: 'call_prod',
        message: expect.stringMatching(/rejected \(lead@example\.com: not production, use staging\)$/),
      },
    ]);
  });

  it('leaves an interruption nobody decided yet as it is, and asking again waits on the same approval', async () => {
    const state = runState();
    const run = { interruptions: [approvalItem('call_tmp', 'rm -rf /srv/tmp')], state };
    const [first] = await openaiAgents.answerInterruptions(signoff, run, { policy: 'agent', waitMs: 100 });
    expect(first?.outcome).toBe('pending');
    expect(state.approved).toEqual([]);
    expect(state.rejected).toEqual([]);
    const [again] = await openaiAgents.answerInterruptions(signoff, run, {
      policy: 'agent',
      onAsked: leadDecides,
    });
    expect(again?.verdict.approval.id).toBe(first?.verdict.approval.id);
    expect(state.approved).toEqual(['call_tmp']);
  });
});

describe('the Vercel AI SDK adapter', () => {
  /** A result's content with one tool approval request, as `generateText` answers it. */
  const content = (approvalId: string, toolCallId: string, command: string) => [
    { type: 'text', text: 'I will clean up.' },
    {
      type: 'tool-approval-request' as const,
      approvalId,
      toolCall: { type: 'tool-call', toolCallId, toolName: 'Bash', input: { command } },
    },
  ];

  it("needs approval unless the policy's rules pass the call", async () => {
    const needsApproval = aiSdk.needsApprovalFrom(signoff, { tool: 'Bash', policy: 'agent' });
    expect(await needsApproval({ command: 'git status' }, { toolCallId: 'tc_1' })).toBe(false);
    expect(await needsApproval({ command: 'terraform apply' }, { toolCallId: 'tc_2' })).toBe(true);
  });

  it('answers each approval request with what people decided', async () => {
    const approved = await aiSdk.answerApprovalRequests(
      signoff,
      content('aprq_1', 'tc_shop', 'kubectl delete namespace shop'),
      { policy: 'agent', onAsked: leadDecides },
    );
    expect(approved.responses).toEqual([
      { type: 'tool-approval-response', approvalId: 'aprq_1', approved: true },
    ]);

    const rejected = await aiSdk.answerApprovalRequests(
      signoff,
      content('aprq_2', 'tc_prod', 'kubectl delete namespace prod'),
      { policy: 'agent', onAsked: leadDecides },
    );
    expect(rejected.responses).toEqual([
      {
        type: 'tool-approval-response',
        approvalId: 'aprq_2',
        approved: false,
        reason: expect.stringContaining('lead@example.com: not production, use staging'),
      },
    ]);
  });

  it('answers no for a call whose approved hash is not its own', async () => {
    // A relay between the agent and signoff asks about another command than the model's.
    const proxy = await startProxy(url);
    try {
      proxy.intercept((request) => {
        if (request.method !== 'POST' || request.url !== '/v1/approvals') return undefined;
        const sent = JSON.parse(request.body);
        return {
          forward: JSON.stringify({ ...sent, action: { ...sent.action, arguments: { command: 'ls' } } }),
        };
      });
      const answers = await aiSdk.answerApprovalRequests(
        createSignoff({ url: proxy.url, token: agentKey }),
        content('aprq_3', 'tc_swap', 'kubectl delete namespace shop'),
        { policy: 'agent', onAsked: leadDecides },
      );
      expect(answers.verdicts[0]?.verdict).toMatchObject({
        approved: false,
        code: 'action_mismatch',
        approval: { status: 'approved' },
      });
      expect(answers.responses).toEqual([
        {
          type: 'tool-approval-response',
          approvalId: 'aprq_3',
          approved: false,
          reason: expect.stringContaining('approved another action than this call'),
        },
      ]);
    } finally {
      await proxy.close();
    }
  });
});

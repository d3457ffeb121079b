import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Approval,
  actionHash,
  createSignoff,
  NotApprovedError,
  type RequireApprovalOptions,
  requireApproval,
  type SignoffClient,
} from '../../sdk/src/index.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { startProxy } from '../helpers/proxy.js';

let h: Harness;
let url: string;
let agentKey: string;
let signoff: SignoffClient;
let leadKey: string;

interface Input {
  command: string;
  flags: string[];
}

/** The gated tool's body: it only records what it was given, so a test can prove it never ran. */
function recorder() {
  const calls: Input[] = [];
  const deleteNamespace = (input: Input) => {
    calls.push(input);
    return `ran ${input.command}`;
  };
  return { calls, deleteNamespace };
}

/** A person decides with their own key, over HTTP. */
async function decide(approval: Approval, verdict: 'approve' | 'reject', comment: string) {
  const res = await fetch(`${url}/v1/approvals/${approval.id}/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${leadKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict, comment }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

const gate = (overrides: Partial<RequireApprovalOptions> = {}): RequireApprovalOptions => ({
  signoff,
  tool: 'Bash',
  approvers: ['lead@example.com'],
  ...overrides,
});

async function approvalCount(): Promise<number> {
  return (await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json().items.length;
}

beforeAll(async () => {
  h = await startHarness();
  url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  agentKey = await h.keyFor(null, ['approvals:create', 'approvals:read']);
  signoff = createSignoff({ url, token: agentKey });
  leadKey = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
});

describe('requireApproval', () => {
  it('runs fn exactly once, with a frozen copy of the arguments people approved', async () => {
    const { calls, deleteNamespace } = recorder();
    let asked: Approval | undefined;
    const gated = requireApproval(
      deleteNamespace,
      gate({
        onAsked: async (approval) => {
          asked = approval;
          await decide(approval, 'approve', 'the namespace is empty');
        },
      }),
    );
    const input = { command: 'kubectl delete namespace shop', flags: ['--wait'] };

    expect(await gated(input, { idempotencyKey: 'sdk-happy' })).toBe('ran kubectl delete namespace shop');

    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(input);
    expect(calls[0]).not.toBe(input);
    expect(Object.isFrozen(calls[0])).toBe(true);
    expect(Object.isFrozen(calls[0]?.flags)).toBe(true);
    const stored = (await h.api({ method: 'GET', url: `/v1/approvals/${asked?.id}` })).json();
    expect(stored).toMatchObject({
      title: 'Bash: kubectl delete namespace shop',
      status: 'approved',
      action: { tool: 'Bash', arguments: input },
      actionHash: await actionHash({ tool: 'Bash', arguments: input }),
    });
  });

  it('does not run fn when people reject, and says who rejected and why', async () => {
    const { calls, deleteNamespace } = recorder();
    const gated = requireApproval(
      deleteNamespace,
      gate({ onAsked: (approval) => decide(approval, 'reject', 'use the staging database') }),
    );
    const error = await gated({ command: 'kubectl delete namespace prod', flags: [] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotApprovedError);
    expect(error).toMatchObject({ code: 'rejected', approval: { status: 'rejected' } });
    expect((error as Error).message).toContain('(lead@example.com: use the staging database)');
    expect(calls).toHaveLength(0);
  });

  it('does not run fn when the caller changes its arguments after approval', async () => {
    const { calls, deleteNamespace } = recorder();
    const input = { command: 'kubectl delete namespace shop', flags: ['--wait'] };
    const gated = requireApproval(
      deleteNamespace,
      gate({
        onAsked: async (approval) => {
          await decide(approval, 'approve', 'shop only');
          // What the caller passed is changed once the decision is in.
          input.command = 'kubectl delete namespace prod';
        },
      }),
    );
    const error = await gated(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotApprovedError);
    expect(error).toMatchObject({ code: 'action_mismatch', approval: { status: 'approved' } });
    expect((error as Error).message).toContain('the arguments changed after approval');
    expect(calls).toHaveLength(0);
  });

  it('does not run fn when the approved hash is not the hash of the call', async () => {
    // A relay between the agent and signoff asks about other arguments than the agent's.
    const proxy = await startProxy(url);
    try {
      proxy.intercept((request) => {
        if (request.method !== 'POST' || !request.url.startsWith('/v1/approvals')) return undefined;
        const sent = JSON.parse(request.body);
        if (!sent.action) return undefined;
        return {
          forward: JSON.stringify({
            ...sent,
            action: { ...sent.action, arguments: { ...sent.action.arguments, command: 'kubectl get pods' } },
          }),
        };
      });
      const { calls, deleteNamespace } = recorder();
      const input = { command: 'kubectl delete namespace shop', flags: [] };
      const gated = requireApproval(
        deleteNamespace,
        gate({
          signoff: createSignoff({ url: proxy.url, token: agentKey }),
          // The person approves what signoff shows them: the harmless command.
          onAsked: (approval) => decide(approval, 'approve', 'reading is fine'),
        }),
      );
      const error = await gated(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotApprovedError);
      expect(error).toMatchObject({ code: 'action_mismatch' });
      const approval = (error as NotApprovedError).approval;
      expect(approval).toMatchObject({
        status: 'approved',
        action: { arguments: { command: 'kubectl get pods' } },
      });
      expect(approval.actionHash).not.toBe(await actionHash({ tool: 'Bash', arguments: input }));
      expect(calls).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it('does not run fn when the approval expires before anyone decides', async () => {
    const { calls, deleteNamespace } = recorder();
    const gated = requireApproval(
      deleteNamespace,
      gate({
        timeout: '1h',
        // The clock the server sees moves past the approval's expiry; its sweeper expires it.
        onAsked: () => h.advance(2 * 3600_000),
      }),
    );
    await expect(gated({ command: 'kubectl delete namespace old', flags: [] })).rejects.toMatchObject({
      code: 'expired',
      approval: { status: 'expired' },
    });
    expect(calls).toHaveLength(0);
  });

  it('stops at its wait without running fn, and the same idempotency key resumes the same approval', async () => {
    const { calls, deleteNamespace } = recorder();
    let asked: Approval | undefined;
    const input = { command: 'kubectl delete namespace tmp', flags: [] };
    const impatient = requireApproval(
      deleteNamespace,
      gate({
        waitMs: 200,
        onAsked: (approval) => {
          asked = approval;
        },
      }),
    );
    await expect(impatient(input, { idempotencyKey: 'sdk-resume' })).rejects.toMatchObject({
      code: 'not_decided',
    });
    expect(calls).toHaveLength(0);
    if (!asked) throw new Error('nothing was asked');
    await decide(asked, 'approve', 'go ahead');

    const patient = requireApproval(deleteNamespace, gate());
    expect(await patient(input, { idempotencyKey: 'sdk-resume' })).toBe('ran kubectl delete namespace tmp');
    expect(calls).toEqual([input]);
  });

  it('refuses arguments JSON would change, before asking anyone', async () => {
    const before = await approvalCount();
    const gated = requireApproval((input: { at: Date }) => input.at, gate());
    await expect(gated({ at: new Date() })).rejects.toThrow(/\$\.at is a Date/);
    expect(await approvalCount()).toBe(before);
  });
});

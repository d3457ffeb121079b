import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionHash, createSignoff, SignoffApiError, type SignoffClient } from '../../sdk/src/index.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { startProxy } from '../helpers/proxy.js';

let h: Harness;
let url: string;
let signoff: SignoffClient;
let leadKey: string;

const action = { tool: 'Bash', arguments: { command: 'kubectl delete namespace shop' } };
const body = (overrides: Record<string, unknown> = {}) => ({
  title: 'Bash: kubectl delete namespace shop',
  approvers: ['lead@example.com'],
  action,
  ...overrides,
});

/** A person decides with their own key, over HTTP, as the API lets people decide. */
async function decide(id: string, verdict: 'approve' | 'reject', comment: string) {
  const res = await fetch(`${url}/v1/approvals/${id}/decisions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${leadKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ verdict, comment }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function approvalCount(): Promise<number> {
  return (await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json().items.length;
}

beforeAll(async () => {
  h = await startHarness();
  url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  signoff = createSignoff({ url, token: await h.keyFor(null, ['approvals:create', 'approvals:read']) });
  leadKey = await h.keyFor('lead@example.com', ['approvals:decide']);
});
afterAll(async () => {
  await h?.close();
});

describe('the SDK client against a real signoff', () => {
  it('asks, and waitForDecision answers the decision with who decided and their comment', async () => {
    const asked = await signoff.createApproval(body(), { idempotencyKey: 'sdk-client-1' });
    expect(asked).toMatchObject({ status: 'pending', action, actionHash: await actionHash(action) });
    // A retry with the same key is the same approval.
    expect((await signoff.createApproval(body(), { idempotencyKey: 'sdk-client-1' })).id).toBe(asked.id);

    const waiting = signoff.waitForDecision(asked.id);
    await decide(asked.id, 'approve', 'the namespace is empty');
    const decided = await waiting;
    expect(decided.status).toBe('approved');
    expect(decided.decisions).toEqual([
      expect.objectContaining({
        actor: 'lead@example.com',
        verdict: 'approve',
        comment: 'the namespace is empty',
      }),
    ]);
    expect(await signoff.getApproval(asked.id)).toMatchObject({ id: asked.id, status: 'approved' });
  });

  it('brings a rejection to the caller with the comment', async () => {
    const asked = await signoff.createApproval(body());
    const waiting = signoff.waitForDecision(asked.id);
    await decide(asked.id, 'reject', 'use the staging database');
    const decided = await waiting;
    expect(decided.status).toBe('rejected');
    expect(decided.decisions[0]).toMatchObject({
      actor: 'lead@example.com',
      verdict: 'reject',
      comment: 'use the staging database',
    });
  });

  it('answers an approval still pending when its time runs out; waiting again by id resumes', async () => {
    const asked = await signoff.createApproval(body());
    expect((await signoff.waitForDecision(asked.id, { timeoutMs: 300 })).status).toBe('pending');
    await decide(asked.id, 'approve', 'later');
    // Another client, as a restarted agent would be, with nothing but the id.
    const again = createSignoff({ url, token: await h.keyFor(null, ['approvals:read']) });
    expect((await again.waitForDecision(asked.id)).status).toBe('approved');
  });

  it('gives up waiting when the caller aborts', async () => {
    const asked = await signoff.createApproval(body());
    const controller = new AbortController();
    const waiting = signoff.waitForDecision(asked.id, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect((await signoff.getApproval(asked.id)).status).toBe('pending');
  });

  it("surfaces signoff's stable code, message and request id, and never retries a refusal", async () => {
    await signoff.createApproval(body(), { idempotencyKey: 'sdk-client-conflict' });
    const conflict = await signoff
      .createApproval(
        body({ action: { tool: 'Bash', arguments: { command: 'kubectl delete namespace prod' } } }),
        {
          idempotencyKey: 'sdk-client-conflict',
        },
      )
      .catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(SignoffApiError);
    expect(conflict).toMatchObject({ code: 'idempotency_conflict', status: 409, name: 'SignoffApiError' });
    expect((conflict as SignoffApiError).message).not.toBe('');
    expect((conflict as SignoffApiError).requestId).toMatch(/^req_/);

    const invalid = await signoff.createApproval(body({ timeout: 'soon' })).catch((error: unknown) => error);
    expect(invalid).toMatchObject({ code: 'invalid_input', status: 400 });
    expect((invalid as SignoffApiError).details).toMatchObject({ issues: expect.any(Array) });

    const reader = createSignoff({ url, token: await h.keyFor('reader@example.com', ['approvals:read']) });
    await expect(reader.createApproval(body())).rejects.toMatchObject({ code: 'forbidden', status: 403 });

    const proxy = await startProxy(url);
    try {
      const viaProxy = createSignoff({ url: proxy.url, token: await h.keyFor(null, ['approvals:read']) });
      await expect(viaProxy.waitForDecision('apr_missing')).rejects.toMatchObject({ code: 'not_found' });
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('checks a policy without asking anyone, and cancels what it asked for', async () => {
    const before = await approvalCount();
    const check = await signoff.checkPolicy(body());
    expect(check).toMatchObject({
      outcome: 'needs_review',
      actionHash: await actionHash(action),
      waitsFor: { type: 'human', gates: [expect.objectContaining({ approvers: ['lead@example.com'] })] },
    });
    expect(await approvalCount()).toBe(before);

    const asked = await signoff.createApproval(body());
    const cancelled = await signoff.cancelApproval(asked.id, { reason: 'the agent found another way' });
    expect(cancelled).toMatchObject({ id: asked.id, status: 'cancelled' });
    expect((await signoff.waitForDecision(asked.id)).status).toBe('cancelled');
  });

  it('waits through failures with backoff, and holds no request longer than the server caps', async () => {
    const proxy = await startProxy(url);
    try {
      const viaProxy = createSignoff({
        url: proxy.url,
        token: await h.keyFor(null, ['approvals:create', 'approvals:read']),
        // More than the server's cap: the client asks for 60 s at most.
        pollMs: 120_000,
        backoff: { initialMs: 20, maxMs: 100 },
      });
      const asked = await viaProxy.createApproval(body());
      await decide(asked.id, 'approve', 'fine');
      let failed = 0;
      proxy.intercept((request) =>
        request.url.includes('/wait') && failed++ < 2
          ? {
              answer: 503,
              json: { error: { code: 'database_unavailable', message: 'down', requestId: 'req_x' } },
            }
          : undefined,
      );
      const decided = await viaProxy.waitForDecision(asked.id, { timeoutMs: 5 * 60_000 });
      expect(decided.status).toBe('approved');
      const waits = proxy.seen.filter((r) => r.url.includes('/wait'));
      expect(waits).toHaveLength(3);
      for (const wait of waits) {
        const seconds = Number(/timeout=([\d.]+)s/.exec(wait.url)?.[1]);
        expect(seconds).toBeGreaterThan(0);
        expect(seconds).toBeLessThanOrEqual(60);
      }
    } finally {
      await proxy.close();
    }
  });

  it('says when signoff cannot be reached', async () => {
    const proxy = await startProxy(url);
    await proxy.close();
    const nowhere = createSignoff({ url: proxy.url, token: 'sk_whatever_0123456789abcdef' });
    await expect(nowhere.createApproval(body())).rejects.toMatchObject({
      name: 'SignoffError',
      code: 'unreachable',
    });
  });
});

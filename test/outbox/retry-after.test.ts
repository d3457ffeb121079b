import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually, startReceiver } from '../helpers/receiver.js';

let h: Harness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  // A long maximum backoff, so a Retry-After of two minutes is not cut short by the cap.
  h = await startHarness({ SIGNOFF_RETRY_BASE: '0.05s', SIGNOFF_RETRY_MAX: '1h' });
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
});

/** Creates an approval whose webhook the receiver answers with `status` and `headers`. */
async function failedDelivery(status: number, headers: Record<string, string>) {
  const title = `Retry ${Math.random().toString(36).slice(2)}`;
  receiver.respond((request) => (request.body.includes(title) ? { status, headers } : 200));
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ title, notify: [], callback: { type: 'webhook', url: receiver.url } }),
  });
  expect(res.statusCode).toBe(201);
  const id: string = res.json().id;
  const failed = await eventually(async () => {
    const audit = await h.api({ method: 'GET', url: `/v1/approvals/${id}/audit` });
    const event = audit.json().items.find((e: { type: string }) => e.type === 'callback.failed');
    expect(event).toBeDefined();
    return event as { data: { retryInMs: number } };
  });
  const row = await h.signoff.services.db
    .selectFrom('outbox')
    .select(['next_attempt_at', 'status'])
    .where('approval_id', '=', id)
    .where('kind', '=', 'webhook')
    .executeTakeFirstOrThrow();
  return { retryInMs: failed.data.retryInMs, nextAttemptAt: Number(row.next_attempt_at), status: row.status };
}

describe('outbox: a receiver that says when to come back', () => {
  it('waits as long as a 429 Retry-After asks, instead of the first backoff step', async () => {
    const before = Date.now();
    const { retryInMs, nextAttemptAt, status } = await failedDelivery(429, { 'retry-after': '120' });
    expect(status).toBe('pending');
    expect(retryInMs).toBe(120_000);
    expect(nextAttemptAt).toBeGreaterThanOrEqual(before + 120_000);
  });

  it('takes a 503 Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 600_000);
    const { retryInMs } = await failedDelivery(503, { 'retry-after': at.toUTCString() });
    // The date has whole seconds; the delay is counted from when the answer came.
    expect(retryInMs).toBeGreaterThan(590_000);
    expect(retryInMs).toBeLessThanOrEqual(600_000);
  });

  it('backs off as usual when a 503 says nothing about when', async () => {
    const { retryInMs } = await failedDelivery(503, {});
    // The first step of a 50 ms base: between 25 and 50 ms.
    expect(retryInMs).toBeLessThanOrEqual(50);
  });
});

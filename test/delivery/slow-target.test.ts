import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { startReceiver } from '../helpers/receiver.js';

// A webhook target that takes 10 s to answer holds one delivery, not everyone else's.
const SLOW_MS = 10_000;
const OTHERS = 40;

let h: Harness;
let slow: Awaited<ReturnType<typeof startReceiver>>;
let fast: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  slow = await startReceiver();
  fast = await startReceiver();
  // Long enough that the slow answer is a success, not a timeout and a retry.
  h = await startHarness({ SIGNOFF_HTTP_TIMEOUT: '30s' });
});
afterAll(async () => {
  await h.close();
  await slow.stop();
  await fast.stop();
});

async function create(url: string) {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({ callback: { type: 'webhook', url } }),
  });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

describe('a slow webhook target', () => {
  it('does not delay deliveries to another target', async () => {
    let slowArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      slowArrived = resolve;
    });
    slow.respond(() => {
      slowArrived();
      return { status: 200, delayMs: SLOW_MS };
    });
    const slowId = await create(slow.url);
    // The slow delivery is under way before any other is queued.
    await arrived;

    const ids = [];
    for (let i = 0; i < OTHERS; i++) ids.push(await create(fast.url));
    await fast.waitFor(OTHERS);
    // Every other target heard while the slow one still held its answer back.
    expect(slow.received).toHaveLength(0);
    expect(new Set(fast.received.map((r) => JSON.parse(r.body).data.id))).toEqual(new Set(ids));

    const [answered] = await slow.waitFor(1);
    expect(JSON.parse(answered?.body ?? '{}').data.id).toBe(slowId);
  });

  it('is not delivered a second time when the clock jumps past its lease mid-delivery', async () => {
    let arrivals = 0;
    let arrived!: () => void;
    const first = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const hanging = await startReceiver();
    try {
      hanging.respond(() => {
        arrivals++;
        arrived();
        return 'hang';
      });
      await create(hanging.url);
      await first;
      // An hour later by the clock, the delivery still under way looks like a lease run out.
      h.advance(60 * 60 * 1000);
      await h.signoff.dispatcher.runOnce();
      expect(arrivals).toBe(1);
    } finally {
      await hanging.stop();
    }
  });
});

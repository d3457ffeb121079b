import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer } from './helpers/ai.js';
import { approvalBody, type Harness, startHarness } from './helpers/harness.js';
import { startReceiver } from './helpers/receiver.js';

const TOKEN = 'metrics_token_0123456789abcdef';

let h: Harness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let chat: Awaited<ReturnType<typeof startChatServer>>;
beforeAll(async () => {
  receiver = await startReceiver();
  // The receiver of every webhook is down: each delivery fails, then is given up on.
  receiver.respond(() => 500);
  chat = await startChatServer(() => ({
    verdict: { decision: 'approve', confidence: 0.9, rationale: 'A routine change.' },
  }));
  // The dispatcher is driven by hand, so what is due stays due until the test delivers it.
  h = await startHarness(
    {
      SIGNOFF_METRICS_TOKEN: TOKEN,
      SIGNOFF_DEAD_LETTER_AFTER: '10m',
      SIGNOFF_AI_URL: chat.url,
      SIGNOFF_AI_MODEL: 'test-model',
    },
    { workers: false },
  );
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
  await chat.close();
});

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Scrapes /metrics and reads the text format into samples. */
async function scrape() {
  const res = await h.api({ method: 'GET', url: '/metrics', token: TOKEN });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples: Sample[] = res.body
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { name: match[1] ?? '', labels, value: Number(match[3]) };
    });
  /** The sum of the samples of `name` whose labels include `labels` (0 when there are none). */
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  return { text: res.body, samples, value };
}

describe('/metrics', () => {
  it('is refused without the metrics token, and an API key does not open it', async () => {
    const none = await h.api({ method: 'GET', url: '/metrics', token: null });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthorized');
    for (const token of [h.adminKey, `${TOKEN}x`, 'short']) {
      const res = await h.api({ method: 'GET', url: '/metrics', token });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('invalid_token');
    }
  });

  it('is not served when no token is set, and says which setting turns it on', async () => {
    const plain = await startHarness({}, { workers: false });
    try {
      for (const token of [TOKEN, null]) {
        const res = await plain.api({ method: 'GET', url: '/metrics', token });
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('not_found');
        // What the operator needs to know, rather than "No route GET /metrics."
        expect(res.json().error.message).toContain('SIGNOFF_METRICS_TOKEN');
        expect(res.body).not.toContain('signoff_');
      }
    } finally {
      await plain.close();
    }
  });

  it('moves with a create, a decision, a failing webhook, a dead letter and an AI review', async () => {
    const start = await scrape();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);

    // A create: counted, pending, and its notification waits in the outbox.
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ callback: { type: 'webhook', url: `${receiver.url}/hook` } }),
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    h.advance(120_000);
    const afterCreate = await scrape();
    expect(afterCreate.value('signoff_approvals_created_total', { policy: 'inline' })).toBe(
      start.value('signoff_approvals_created_total', { policy: 'inline' }) + 1,
    );
    expect(afterCreate.value('signoff_approvals_pending')).toBe(start.value('signoff_approvals_pending') + 1);
    expect(afterCreate.value('signoff_oldest_pending_approval_age_seconds')).toBeGreaterThanOrEqual(120);
    expect(afterCreate.value('signoff_outbox_depth')).toBeGreaterThanOrEqual(1);
    expect(afterCreate.value('signoff_outbox_oldest_due_age_seconds')).toBeGreaterThanOrEqual(120);

    // Delivering the mail: a delivery counted, and the backlog's age falls.
    await h.signoff.dispatcher.runOnce();
    const afterMail = await scrape();
    expect(
      afterMail.value('signoff_deliveries_total', { kind: 'email', result: 'delivered' }),
    ).toBeGreaterThan(afterCreate.value('signoff_deliveries_total', { kind: 'email', result: 'delivered' }));
    // What was due for two minutes went out (a message queued just now may be due already).
    expect(afterMail.value('signoff_outbox_oldest_due_age_seconds')).toBeLessThan(60);

    // A decision ends it: counted by outcome and policy, with its time to decision.
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(decided.statusCode).toBe(201);
    const afterDecision = await scrape();
    const ended = { outcome: 'approved', policy: 'inline' };
    expect(afterDecision.value('signoff_approvals_ended_total', ended)).toBe(
      start.value('signoff_approvals_ended_total', ended) + 1,
    );
    expect(afterDecision.value('signoff_time_to_decision_seconds_count', ended)).toBe(
      start.value('signoff_time_to_decision_seconds_count', ended) + 1,
    );
    expect(
      afterDecision.value('signoff_time_to_decision_seconds_sum', ended) -
        start.value('signoff_time_to_decision_seconds_sum', ended),
    ).toBeGreaterThanOrEqual(120);
    expect(afterDecision.value('signoff_approvals_pending')).toBe(start.value('signoff_approvals_pending'));

    // The webhook fails: a retry is counted.
    await h.signoff.dispatcher.runOnce();
    await receiver.waitFor(1);
    const afterFailure = await scrape();
    expect(
      afterFailure.value('signoff_deliveries_total', { kind: 'webhook', result: 'retry' }),
    ).toBeGreaterThan(start.value('signoff_deliveries_total', { kind: 'webhook', result: 'retry' }));
    expect(afterFailure.value('signoff_outbox_depth')).toBeGreaterThanOrEqual(1);

    // Past the dead-letter window it is given up on: a dead letter, counted and kept.
    h.advance(11 * 60_000);
    await h.signoff.dispatcher.runOnce();
    const afterDeath = await scrape();
    expect(afterDeath.value('signoff_dead_letters_total', { kind: 'webhook' })).toBeGreaterThan(
      start.value('signoff_dead_letters_total', { kind: 'webhook' }),
    );
    expect(afterDeath.value('signoff_deliveries_total', { kind: 'webhook', result: 'dead' })).toBeGreaterThan(
      0,
    );
    expect(afterDeath.value('signoff_outbox_dead_letters')).toBeGreaterThan(
      start.value('signoff_outbox_dead_letters'),
    );

    // An AI stage: its latency and verdict.
    const reviewed = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({
        approvers: undefined,
        stages: [
          { type: 'ai', mode: 'advise' },
          { type: 'human', gates: [{ approvers: ['lead@example.com'] }] },
        ],
      }),
    });
    expect(reviewed.statusCode).toBe(201);
    await h.signoff.dispatcher.runOnce();
    expect(chat.requests.length).toBeGreaterThanOrEqual(1);
    const afterReview = await scrape();
    expect(afterReview.value('signoff_ai_reviews_total', { verdict: 'approve' })).toBe(
      start.value('signoff_ai_reviews_total', { verdict: 'approve' }) + 1,
    );
    expect(afterReview.value('signoff_ai_review_duration_seconds_count')).toBe(
      start.value('signoff_ai_review_duration_seconds_count') + 1,
    );

    // HTTP requests by route pattern, never by URL (URLs carry ids and link tokens).
    expect(
      afterReview.value('signoff_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/approvals/:id/decisions',
        status: '201',
      }),
    ).toBe(1);
    expect(
      afterReview.value('signoff_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/approvals',
        status: '201',
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(afterReview.text).not.toContain(id);
  });
});

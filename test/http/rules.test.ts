import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { workers: false });
});
afterAll(async () => h.close());

const leads = { name: 'leads', type: 'human', gates: [{ approvers: ['lead@example.com'] }] };

function withRule(when: string, fields: Record<string, unknown> = {}) {
  const { approvers: _, ...rest } = approvalBody(fields);
  return { ...rest, stages: [{ name: 'rules', type: 'rule', rules: [{ when, then: 'approve' }] }, leads] };
}

describe('rule stages in a create request', () => {
  it('never stall the server: /healthz answers at once throughout a request whose pattern backtracks', async () => {
    const rule = "description.matches('^(a+)+$')";
    // A first request pays for what is done once (compiling, warming up); the second is measured.
    const first = await h.api({ method: 'POST', url: '/v1/approvals', payload: withRule(rule) });
    expect(first.statusCode).toBe(201);
    let created = false;
    const creating = h
      .api({
        method: 'POST',
        url: '/v1/approvals',
        // 9,999 of them and the "!": the longest description the API takes.
        payload: withRule(rule, { description: `${'a'.repeat(9_999)}!` }),
      })
      .finally(() => {
        created = true;
      });
    // Health checks run back to back until the create answers, each followed by one turn of the
    // event loop so the create can proceed. Any time the request thread is held falls inside one
    // of these rounds.
    const rounds: number[] = [];
    while (!created) {
      const started = performance.now();
      const health = await h.signoff.app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
      await new Promise(setImmediate);
      rounds.push(performance.now() - started);
    }
    const res = await creating;
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      status: 'pending',
      stages: [
        { name: 'rules', status: 'skipped' },
        { name: 'leads', status: 'pending' },
      ],
    });
    // Backtracking on this input would hold the thread for longer than the universe has run; a
    // linear engine answers within the rule budget. The bound leaves room for a loaded machine.
    expect(Math.max(...rounds)).toBeLessThan(5_000);
  });

  it.each([
    ['a lookahead', "title.matches('^(?=Deploy)')"],
    ['a backreference', "title.matches('(D)\\\\1')"],
    ['two nested list macros behind a comment', 'metadata.a.all(x, metadata.b.//\nexists(y, x == y))'],
  ])('refuses a condition with %s as invalid input and stores nothing', async (_name, when) => {
    const count = async () =>
      (await h.api({ method: 'GET', url: '/v1/approvals?limit=100' })).json().items.length;
    const before = await count();
    const res = await h.api({ method: 'POST', url: '/v1/approvals', payload: withRule(when) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
    expect(await count()).toBe(before);
  });
});

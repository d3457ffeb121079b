import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { PATIENCE_MS } from '../helpers/receiver.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ SIGNOFF_BODY_LIMIT: '4096' }, { workers: false });
});
afterAll(async () => h.close());

async function countRows(table: 'approvals' | 'outbox' | 'audit_events') {
  const row = await h.signoff.services.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function create(body: Record<string, unknown> = approvalBody(), headers: Record<string, string> = {}) {
  return h.api({ method: 'POST', url: '/v1/approvals', payload: body, headers });
}

describe('POST /v1/approvals', () => {
  it('creates a pending approval with the contract shape', async () => {
    const res = await create(
      approvalBody({
        description: 'v2.3.1 is on staging',
        link: 'https://staging.example.com',
        metadata: { pipeline: 'web' },
        approvers: ['Lead@Example.com', 'pm@example.com'],
        required: 2,
        timeout: '24h',
        requester: 'dev@example.com',
      }),
    );
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.id).toMatch(/^apr_[0-9A-Z]{26}$/);
    expect(body).toMatchObject({
      status: 'pending',
      requester: 'dev@example.com',
      metadata: { pipeline: 'web' },
      decidedAt: null,
      stages: [
        {
          type: 'human',
          status: 'pending',
          gates: [{ approvers: ['lead@example.com', 'pm@example.com'], required: 2, approvals: [] }],
        },
      ],
      decisions: [],
    });
    expect(new Date(body.expiresAt).getTime() - new Date(body.createdAt).getTime()).toBe(24 * 3600 * 1000);
  });

  it.each([
    ['invalid JSON', '{"title": ', 'invalid_input', 400],
    ['a missing title', JSON.stringify({ approvers: ['a@x.io'] }), 'invalid_input', 400],
    ['an empty title', JSON.stringify({ title: '', approvers: ['a@x.io'] }), 'invalid_input', 400],
    ['a title of the wrong type', JSON.stringify({ title: 42, approvers: ['a@x.io'] }), 'invalid_input', 400],
    ['required as a string', JSON.stringify(approvalBody({ required: '1' })), 'invalid_input', 400],
    ['an unknown field', JSON.stringify(approvalBody({ approver: 'a@x.io' })), 'invalid_input', 400],
    ['a non-email approver', JSON.stringify(approvalBody({ approvers: ['lead'] })), 'invalid_input', 400],
    [
      'two addresses in one approver',
      JSON.stringify(approvalBody({ approvers: ['x,evil@attacker.example'] })),
      'invalid_input',
      400,
    ],
    [
      'a requester that is not an address',
      JSON.stringify(approvalBody({ requester: '<script>' })),
      'invalid_input',
      400,
    ],
    ['more required than approvers', JSON.stringify(approvalBody({ required: 2 })), 'invalid_input', 400],
    ['a timeout past the maximum', JSON.stringify(approvalBody({ timeout: '365d' })), 'invalid_input', 400],
    [
      'a javascript: link',
      JSON.stringify(approvalBody({ link: 'javascript:alert(1)' })),
      'invalid_input',
      400,
    ],
    [
      'a webhook secret of the wrong form',
      JSON.stringify(
        approvalBody({ callback: { type: 'webhook', url: 'http://127.0.0.1:1/x', secret: 'hunter2' } }),
      ),
      'invalid_input',
      400,
    ],
    [
      'an oversize body',
      JSON.stringify(approvalBody({ description: 'x'.repeat(5000) })),
      'body_too_large',
      413,
    ],
  ])('refuses %s with a code and stores nothing', async (_name, payload, code, status) => {
    const before = await Promise.all([
      countRows('approvals'),
      countRows('outbox'),
      countRows('audit_events'),
    ]);
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(typeof res.json().error.message).toBe('string');
    const after = await Promise.all([countRows('approvals'), countRows('outbox'), countRows('audit_events')]);
    expect(after).toEqual(before);
  });

  it('refuses a body that is not JSON', async () => {
    const res = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: 'title=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('returns the same approval for a repeated Idempotency-Key, with one row', async () => {
    const before = await countRows('approvals');
    const headers = { 'idempotency-key': 'deploy-42' };
    const first = await create(approvalBody({ title: 'idempotent' }), headers);
    const second = await create(approvalBody({ title: 'idempotent' }), headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect(await countRows('approvals')).toBe(before + 1);
    const conflicting = await create(approvalBody({ title: 'something else' }), headers);
    expect(conflicting.statusCode).toBe(409);
    expect(conflicting.json().error.code).toBe('idempotency_conflict');
  });

  it('scopes idempotency keys to the caller', async () => {
    const other = await h.keyFor('ci@example.com', ['approvals:create']);
    const headers = { 'idempotency-key': 'shared-key' };
    const mine = await create(approvalBody(), headers);
    const theirs = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody(),
      headers,
      token: other,
    });
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().id).not.toBe(mine.json().id);
  });
});

describe('reading approvals', () => {
  it('gets one approval and answers 404 for an unknown id', async () => {
    const created = (await create()).json();
    const res = await h.api({ method: 'GET', url: `/v1/approvals/${created.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(created.id);
    const missing = await h.api({ method: 'GET', url: '/v1/approvals/apr_00000000000000000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('lists newest first with a cursor and a status filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(approvalBody({ title: `page ${i}` }))).json().id);
    const first = (await h.api({ method: 'GET', url: '/v1/approvals?limit=3' })).json();
    expect(first.items.map((a: { id: string }) => a.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(first.nextCursor).toBe(ids[2]);
    const second = (
      await h.api({ method: 'GET', url: `/v1/approvals?limit=2&cursor=${first.nextCursor}` })
    ).json();
    expect(second.items.map((a: { id: string }) => a.id)).toEqual([ids[1], ids[0]]);
    await h.api({ method: 'POST', url: `/v1/approvals/${ids[4]}/cancel`, payload: {} });
    const cancelled = (await h.api({ method: 'GET', url: '/v1/approvals?status=cancelled' })).json();
    expect(cancelled.items.map((a: { id: string }) => a.id)).toContain(ids[4]);
    expect(cancelled.items.every((a: { status: string }) => a.status === 'cancelled')).toBe(true);
    const bad = await h.api({ method: 'GET', url: '/v1/approvals?status=weird' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
  });

  it('reads numbers from the query string and refuses what is not one it takes', async () => {
    await create();
    await create();
    const one = await h.api({ method: 'GET', url: '/v1/approvals?limit=1' });
    expect(one.statusCode).toBe(200);
    expect(one.json().items).toHaveLength(1);
    for (const query of ['limit=abc', 'limit=2.5', 'limit=0', 'limit=101', 'unknown=1']) {
      const res = await h.api({ method: 'GET', url: `/v1/approvals?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toBe('invalid_input');
    }
  });
});

describe('deciding through the API', () => {
  it('records the authenticated approver, refuses others, and keeps the audit trail', async () => {
    const created = (
      await create(approvalBody({ approvers: ['lead@example.com', 'pm@example.com'], required: 2 }))
    ).json();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const stranger = await h.keyFor('mallory@example.com', ['approvals:decide']);
    const refused = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: stranger,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('not_approver');
    // A credential that names nobody cannot be an approver, whatever it may do.
    const nobody = await h.keyFor(null, ['approvals:decide']);
    const unnamed = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: nobody,
    });
    expect(unnamed.statusCode).toBe(403);
    expect(unnamed.json().error.code).toBe('not_approver');
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve', comment: 'looks good' },
      token: lead,
    });
    expect(decided.statusCode).toBe(201);
    expect(decided.json().decisions).toMatchObject([
      { actor: 'lead@example.com', verdict: 'approve', comment: 'looks good', via: 'api' },
    ]);
    const twice = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'reject' },
      token: lead,
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('duplicate_decision');
    const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${created.id}/audit` })).json();
    expect(audit.items.map((e: { type: string }) => e.type)).toEqual([
      'approval.created',
      'approval.decision',
    ]);
  });

  it('rejects on one reject even when a 2-of-3 quorum already has an approval', async () => {
    const created = (
      await create(
        approvalBody({ approvers: ['a@example.com', 'b@example.com', 'c@example.com'], required: 2 }),
      )
    ).json();
    const a = await h.keyFor('a@example.com', ['approvals:decide']);
    const c = await h.keyFor('c@example.com', ['approvals:decide']);
    const decide = (token: string, verdict: string) =>
      h.api({ method: 'POST', url: `/v1/approvals/${created.id}/decisions`, payload: { verdict }, token });
    expect((await decide(a, 'approve')).json().status).toBe('pending');
    const rejected = (await decide(c, 'reject')).json();
    expect(rejected).toMatchObject({ status: 'rejected', reason: 'Rejected by c@example.com' });
    expect(rejected.stages[0].status).toBe('rejected');
  });

  it('refuses a requester approving their own request with 403 self_approval', async () => {
    const dev = await h.keyFor('dev@example.com', ['approvals:create', 'approvals:decide']);
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ approvers: ['dev@example.com', 'lead@example.com'] }),
      token: dev,
    });
    expect(created.json().requester).toBe('dev@example.com');
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.json().id}/decisions`,
      payload: { verdict: 'approve' },
      token: dev,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('self_approval');
  });

  it('does not let a person name someone else as requester to approve their own request', async () => {
    const dev = await h.keyFor('dev@example.com', ['approvals:create', 'approvals:decide']);
    const dodge = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ requester: 'someone@else.example', approvers: ['dev@example.com'] }),
      token: dev,
    });
    expect(dodge.statusCode).toBe(403);
    expect(dodge.json().error.code).toBe('forbidden');
    const machine = await h.keyFor(null, ['approvals:create']);
    const named = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ requester: 'Dev@Example.com' }),
      token: machine,
    });
    expect(named.statusCode).toBe(201);
    expect(named.json().requester).toBe('dev@example.com');
  });

  it('cancels a pending approval once; a second cancel is 409', async () => {
    const created = (await create()).json();
    const res = await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/cancel`,
      payload: { reason: 'superseded' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'cancelled', reason: 'Cancelled by admin: superseded' });
    const again = await h.api({ method: 'POST', url: `/v1/approvals/${created.id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_decided');
  });
});

describe('GET /v1/approvals/{id}/wait', () => {
  it('is woken by the decision rather than running to its timeout', async () => {
    const created = (await create()).json();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const subscribe = vi.spyOn(h.signoff.services.changes, 'subscribe');
    const waiting = h.api({ method: 'GET', url: `/v1/approvals/${created.id}/wait?timeout=30s` });
    // Decide only once the long poll is listening for changes, so the decision is what wakes it.
    try {
      await vi.waitFor(() => expect(subscribe).toHaveBeenCalledWith(created.id, expect.any(Function)), {
        timeout: PATIENCE_MS,
        interval: 10,
      });
    } finally {
      subscribe.mockRestore();
    }
    const decidedAt = Date.now();
    await h.api({
      method: 'POST',
      url: `/v1/approvals/${created.id}/decisions`,
      payload: { verdict: 'approve' },
      token: lead,
    });
    const res = await waiting;
    expect(res.statusCode).toBe(200);
    // A waiter left to its timeout would answer "pending", half a minute on.
    expect(res.json().status).toBe('approved');
    expect(Date.now() - decidedAt).toBeLessThan(20_000);
  });

  it('holds more than ten long polls at once without a warning of a listener leak', async () => {
    // An instance holds thousands: past ten listeners on one EventTarget, Node warns of a leak.
    const created = (await create()).json();
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const subscribe = vi.spyOn(h.signoff.services.changes, 'subscribe');
    try {
      const waiting = Array.from({ length: 12 }, () =>
        h.api({ method: 'GET', url: `/v1/approvals/${created.id}/wait?timeout=30s` }),
      );
      await vi.waitFor(
        () => expect(subscribe.mock.calls.filter(([id]) => id === created.id)).toHaveLength(12),
        { timeout: PATIENCE_MS, interval: 10 },
      );
      await h.api({
        method: 'POST',
        url: `/v1/approvals/${created.id}/decisions`,
        payload: { verdict: 'approve' },
        token: lead,
      });
      const answers = await Promise.all(waiting);
      expect(answers.map((res) => res.json().status)).toEqual(Array(12).fill('approved'));
      // A warning is emitted a tick after the listener that causes it; the decision came later.
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual(
        [],
      );
    } finally {
      subscribe.mockRestore();
      process.off('warning', onWarning);
    }
  });

  it('answers 200 with the pending approval at its timeout', async () => {
    const created = (await create()).json();
    const res = await h.api({ method: 'GET', url: `/v1/approvals/${created.id}/wait?timeout=1s` });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('pending');
  });
});

describe('concurrent creates with one Idempotency-Key', () => {
  it('make one approval, whichever request wins', async () => {
    const headers = { 'idempotency-key': `race-${Date.now()}` };
    const body = approvalBody({ title: 'raced', notify: [] });
    const results = await Promise.all(Array.from({ length: 10 }, () => create(body, headers)));
    expect(results.every((r) => r.statusCode === 201 || r.statusCode === 200)).toBe(true);
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
  });
});

describe('supersede', () => {
  it('cancels the pending approval with the same key when a newer one is created, and tells its callback', async () => {
    const callback = { type: 'webhook', url: 'http://127.0.0.1:9/hook' };
    const older = (await create(approvalBody({ key: 'web/production', callback, notify: [] }))).json();
    const other = (await create(approvalBody({ key: 'web/staging', notify: [] }))).json();
    const newer = (await create(approvalBody({ key: 'web/production', notify: [] }))).json();
    expect(newer).toMatchObject({ status: 'pending', key: 'web/production' });
    const superseded = (await h.api({ method: 'GET', url: `/v1/approvals/${older.id}` })).json();
    expect(superseded).toMatchObject({
      status: 'cancelled',
      reason: `Cancelled by signoff: superseded by ${newer.id}`,
    });
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${other.id}` })).json().status).toBe('pending');
    const told = await h.signoff.services.db
      .selectFrom('outbox')
      .select('payload')
      .where('approval_id', '=', older.id)
      .where('kind', '=', 'webhook')
      .execute();
    expect(told.map((row) => JSON.parse(row.payload).type)).toEqual(['approval.created', 'approval.decided']);
    expect(JSON.parse(told[1]?.payload ?? '{}').data).toMatchObject({ status: 'cancelled' });
  });

  it('leaves a decided approval with the same key alone', async () => {
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const first = (await create(approvalBody({ key: 'api/production', notify: [] }))).json();
    await h.api({
      method: 'POST',
      url: `/v1/approvals/${first.id}/decisions`,
      payload: { verdict: 'approve' },
      token: lead,
    });
    await create(approvalBody({ key: 'api/production', notify: [] }));
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${first.id}` })).json().status).toBe('approved');
  });
});

import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually, type ReceivedRequest, startReceiver } from '../helpers/receiver.js';
import { linkIn, startSmtpServer } from '../helpers/smtp.js';

const SECRET = `whsec_${Buffer.from('a-very-secret-signing-key-32bytes').toString('base64')}`;

let h: Harness;
let base: string;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  receiver = await startReceiver();
  // The public URL is only known once listening; links are checked by path below.
  h = await startHarness({ SIGNOFF_SMTP_URL: smtp.url });
  base = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
  await smtp.close();
});

/** Events of one type for one approval that the receiver accepted (2xx). */
function events(type: string, approvalId: string): ReceivedRequest[] {
  return receiver.received.filter((r) => {
    if (r.status < 200 || r.status > 299) return false;
    const body = JSON.parse(r.body);
    return body.type === type && body.data.id === approvalId;
  });
}

async function createWithCallback(overrides: Record<string, unknown> = {}) {
  const title = `Release ${Math.random().toString(36).slice(2)}`;
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: approvalBody({
      title,
      callback: { type: 'webhook', url: receiver.url, secret: SECRET },
      ...overrides,
    }),
  });
  expect(res.statusCode).toBe(201);
  return { approval: res.json(), title };
}

async function linksFor(title: string, count: number) {
  const mails = await smtp.waitForMails((m) => m.subject.includes(title), count);
  return new Map(mails.map((m) => [m.to, `${base}${new URL(linkIn(m)).pathname}`]));
}

/** Waits until the outbox has nothing left to send for this approval. */
async function drained(approvalId: string) {
  await eventually(async () => {
    const pending = await h.signoff.services.db
      .selectFrom('outbox')
      .select('id')
      .where('approval_id', '=', approvalId)
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toEqual([]);
  });
}

function postDecision(url: string, verdict: 'approve' | 'reject') {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ verdict }),
  });
}

describe('webhook callback', () => {
  it('sends approval.created and approval.decided, signed so standardwebhooks verifies them', async () => {
    const { approval, title } = await createWithCallback();
    const link = (await linksFor(title, 1)).get('lead@example.com') as string;
    expect((await postDecision(link, 'approve')).status).toBe(200);
    await eventually(() => expect(events('approval.decided', approval.id)).toHaveLength(1));
    const [created] = events('approval.created', approval.id);
    const [decided] = events('approval.decided', approval.id);
    for (const request of [created, decided]) {
      if (!request) throw new Error('missing event');
      const verified = new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>);
      expect(verified).toMatchObject({ data: { id: approval.id } });
      expect(request.headers['webhook-id']).toMatch(/^msg_/);
    }
    expect(JSON.parse(decided?.body ?? '{}').data).toMatchObject({
      status: 'approved',
      decisions: [{ actor: 'lead@example.com', via: 'link' }],
    });
    const forged = { ...(decided?.headers as Record<string, string>), 'webhook-signature': 'v1,AAAA' };
    expect(() => new Webhook(SECRET).verify(decided?.body ?? '', forged)).toThrow();
  });

  it('50 concurrent POSTs on one link make exactly one decision and one callback', async () => {
    const { approval, title } = await createWithCallback();
    const link = (await linksFor(title, 1)).get('lead@example.com') as string;
    const responses = await Promise.all(Array.from({ length: 50 }, () => postDecision(link, 'approve')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 410)).toBe(true);
    await drained(approval.id);
    const stored = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(stored.decisions).toHaveLength(1);
    expect(events('approval.decided', approval.id)).toHaveLength(1);
  });

  it('two approvers racing on a 1-of-2 approval make exactly one decision and one callback', async () => {
    const { approval, title } = await createWithCallback({
      approvers: ['a@example.com', 'b@example.com'],
      required: 1,
    });
    const links = await linksFor(title, 2);
    const [a, b] = await Promise.all([
      postDecision(links.get('a@example.com') as string, 'approve'),
      postDecision(links.get('b@example.com') as string, 'reject'),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    await drained(approval.id);
    const stored = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}` })).json();
    expect(stored.decisions).toHaveLength(1);
    expect(events('approval.decided', approval.id)).toHaveLength(1);
  });

  it('tells the callback when the approval times out', async () => {
    const { approval } = await createWithCallback({ timeout: '1s' });
    await eventually(() => expect(events('approval.decided', approval.id)).toHaveLength(1));
    const body = JSON.parse(events('approval.decided', approval.id)[0]?.body ?? '{}');
    expect(body.data).toMatchObject({ status: 'expired', reason: 'Timed out without a decision' });
    const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
    expect(audit.items.map((e: { type: string }) => e.type)).toContain('approval.expired');
  });

  it('keeps retrying while the receiver is down and delivers once it is back, with one webhook-id', async () => {
    const { approval, title } = await createWithCallback();
    const link = (await linksFor(title, 1)).get('lead@example.com') as string;
    await eventually(() => expect(events('approval.created', approval.id)).toHaveLength(1));
    const failures = async () => {
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
      return audit.items.filter((e: { type: string }) => e.type === 'callback.failed').length;
    };
    receiver.respond(() => 503);
    try {
      expect((await postDecision(link, 'reject')).status).toBe(200);
      await eventually(async () => expect(await failures()).toBeGreaterThanOrEqual(2));
      await receiver.stop();
      // One attempt may still have been under way as the receiver stopped; of two more
      // failures, at least one found nothing listening.
      const answered = await failures();
      await eventually(async () => expect(await failures()).toBeGreaterThanOrEqual(answered + 2));
    } finally {
      receiver.respond(() => 200);
      await receiver.start();
    }
    await eventually(() => expect(events('approval.decided', approval.id)).toHaveLength(1));
    await drained(approval.id);
    const ids = new Set(events('approval.decided', approval.id).map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1);
    const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
    expect(audit.items.map((e: { type: string }) => e.type)).toContain('callback.delivered');
  });
});

describe('dead letters', () => {
  it('gives up after SIGNOFF_DEAD_LETTER_AFTER and shows the message to operators', async () => {
    const dead = await startHarness({ SIGNOFF_DEAD_LETTER_AFTER: '0.3s' });
    try {
      const res = await dead.api({
        method: 'POST',
        url: '/v1/approvals',
        payload: approvalBody({
          notify: [],
          callback: { type: 'webhook', url: 'http://127.0.0.1:1/unreachable' },
        }),
      });
      const id = res.json().id;
      const items = await eventually(async () => {
        const list = (await dead.api({ method: 'GET', url: '/v1/outbox?status=dead' })).json();
        expect(list.items.map((m: { approvalId: string }) => m.approvalId)).toContain(id);
        return list.items;
      });
      expect(items[0]).toMatchObject({ kind: 'webhook', status: 'dead' });
      const audit = (await dead.api({ method: 'GET', url: `/v1/approvals/${id}/audit` })).json();
      expect(audit.items.map((e: { type: string }) => e.type)).toContain('callback.dead_lettered');
      const reader = await dead.keyFor(null, ['approvals:read']);
      expect((await dead.api({ method: 'GET', url: '/v1/outbox', token: reader })).statusCode).toBe(403);
    } finally {
      await dead.close();
    }
  });
});

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness } from '../helpers/harness.js';
import { freePort, sendGet, startCli } from '../helpers/process.js';
import { eventually, PATIENCE_MS, startReceiver } from '../helpers/receiver.js';

let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.stop();
});

interface Failure {
  readonly channel: string;
  readonly to: string;
  readonly reason: string;
  readonly at: string;
}

/** A webhook event for one approval that the receiver got. */
function eventOf(type: string, approvalId: string) {
  return receiver.received
    .map((r) => JSON.parse(r.body))
    .find((body) => body.type === type && body.data.id === approvalId);
}

async function create(h: Harness, approvers: string[]) {
  const res = await h.api({
    method: 'POST',
    url: '/v1/approvals',
    payload: {
      title: `Release ${Math.random().toString(36).slice(2)}`,
      approvers,
      required: 1,
      callback: { type: 'webhook', url: receiver.url },
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function view(h: Harness, id: string) {
  return (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
}

describe('a mail server that cannot be reached', () => {
  let h: Harness;
  let url: string;
  let smtpPort: number;

  beforeAll(async () => {
    // Nothing listens there: every attempt is refused, and after 5 s the mail is given up on.
    smtpPort = await freePort();
    h = await startHarness({
      SIGNOFF_SMTP_URL: `smtp://mailer:s3cret-password@127.0.0.1:${smtpPort}`,
      SIGNOFF_DEAD_LETTER_AFTER: '5s',
    });
    url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('tells a waiting `signoff wait`, the approval and the next webhook event, without the password', async () => {
    const approval = await create(h, ['lead@example.com']);
    const run = startCli(['wait', approval.id], { SIGNOFF_URL: url, SIGNOFF_TOKEN: h.adminKey });
    const expected = `mail to lead@example.com failed: connection refused by 127.0.0.1:${smtpPort}`;
    await run.stderrMatching(new RegExp(`warning: ${expected.replace(/[.]/g, '\\.')}`));

    const pending = await view(h, approval.id);
    expect(pending.status).toBe('pending');
    expect(pending.notificationFailures).toEqual([
      {
        channel: 'email',
        to: 'lead@example.com',
        reason: `connection refused by 127.0.0.1:${smtpPort}`,
        at: expect.any(String),
      },
    ]);

    // The waiting side goes on waiting; someone decides another way, and the webhook hears of the failure.
    const lead = await h.keyFor('lead@example.com', ['approvals:decide']);
    const decided = await h.api({
      method: 'POST',
      url: `/v1/approvals/${approval.id}/decisions`,
      token: lead,
      payload: { verdict: 'approve' },
    });
    expect(decided.statusCode).toBe(201);
    const result = await run.done;
    expect(result.code).toBe(0);
    // Printed once, while it waited.
    expect(result.stderr.split(expected)).toHaveLength(2);
    expect(result.stderr.indexOf(expected)).toBeLessThan(result.stderr.indexOf('approved after'));

    const event = await eventually(() => {
      const found = eventOf('approval.decided', approval.id);
      if (!found) throw new Error('no approval.decided event yet');
      return found;
    });
    expect(event.data.notificationFailures).toEqual(pending.notificationFailures);
    expect(eventOf('approval.created', approval.id)?.data.notificationFailures).toEqual([]);

    const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
    const dead = audit.items.filter((e: { type: string }) => e.type === 'notification.dead_lettered');
    expect(dead).toHaveLength(1);
    expect(dead[0].data).toMatchObject({
      channel: 'email',
      to: 'lead@example.com',
      error: `connection refused by 127.0.0.1:${smtpPort}`,
    });
    const retried = audit.items.filter((e: { type: string }) => e.type === 'notification.failed');
    expect(retried.length).toBeGreaterThan(0);
    expect(retried[0].data).toMatchObject({ channel: 'email', to: 'lead@example.com' });
    const outbox = await h.api({ method: 'GET', url: '/v1/outbox?status=dead' });
    expect(outbox.body).toContain(`connection refused by 127.0.0.1:${smtpPort}`);
    for (const text of [JSON.stringify(audit), outbox.body, JSON.stringify(event), result.stderr])
      expect(text).not.toContain('s3cret');
  });

  it('answers a long poll as soon as a mail is given up on, while the approval still waits', async () => {
    const approval = await create(h, ['pm@example.com']);
    const subscribe = vi.spyOn(h.signoff.services.changes, 'subscribe');
    let answer: Awaited<ReturnType<typeof sendGet>>['answer'];
    try {
      ({ answer } = await sendGet(`${url}/v1/approvals/${approval.id}/wait?timeout=60s`, {
        authorization: `Bearer ${h.adminKey}`,
      }));
      await vi.waitFor(() => expect(subscribe).toHaveBeenCalledWith(approval.id, expect.any(Function)), {
        timeout: PATIENCE_MS,
        interval: 20,
      });
    } finally {
      subscribe.mockRestore();
    }
    const { status, body } = await answer;
    expect(status).toBe(200);
    const answered = JSON.parse(body);
    expect(answered.status).toBe('pending');
    expect(answered.notificationFailures.map((f: Failure) => f.to)).toEqual(['pm@example.com']);
    // The poll asked for 60 s and this test gives up after 50: only the dead letter answers it.
  }, 50_000);
});

describe('a mail server that refuses a recipient or a message', () => {
  let h: Harness;
  let server: SMTPServer;
  let port: number;
  const accepted: string[] = [];

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _connection, callback) {
        if (address.address === 'lead@example.com') {
          const error = Object.assign(new Error('5.1.1 <lead@example.com>: no such user'), {
            responseCode: 550,
          });
          callback(error);
          return;
        }
        callback();
      },
      onData(stream, connection, callback) {
        const recipients = connection.envelope.rcptTo.map((r) => r.address);
        stream.resume();
        stream.on('end', () => {
          if (recipients.includes('spam@example.com')) {
            callback(Object.assign(new Error('5.7.1 message refused as spam'), { responseCode: 554 }));
            return;
          }
          accepted.push(...recipients);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
    // The default dead-letter window (48 h): a refusal for good must not wait for it.
    h = await startHarness({ SIGNOFF_SMTP_URL: `smtp://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("gives up at once, with the server's reply as the reason, and still mails the others", async () => {
    const approval = await create(h, ['lead@example.com', 'spam@example.com', 'pm@example.com']);
    const failures: Failure[] = await eventually(async () => {
      const found = (await view(h, approval.id)).notificationFailures;
      expect(found).toHaveLength(2);
      return found;
    });
    expect([...failures].sort((a, b) => a.to.localeCompare(b.to))).toEqual([
      {
        channel: 'email',
        to: 'lead@example.com',
        reason: `127.0.0.1:${port} refused the recipient: 550 5.1.1 <lead@example.com>: no such user`,
        at: expect.any(String),
      },
      {
        channel: 'email',
        to: 'spam@example.com',
        reason: `127.0.0.1:${port} refused the message: 554 5.7.1 message refused as spam`,
        at: expect.any(String),
      },
    ]);
    const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
    const dead = audit.items.filter((e: { type: string }) => e.type === 'notification.dead_lettered');
    expect(dead.map((e: { data: { attempts: number } }) => e.data.attempts)).toEqual([1, 1]);
    await eventually(() => expect(accepted).toContain('pm@example.com'));
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmailNotifier } from '../../src/channels/email-notifier.js';
import { newId } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { createDispatcher } from '../../src/outbox/dispatcher.js';
import { createSignoff } from '../../src/server.js';
import { insertOutbox } from '../../src/store/outbox.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';
import { eventually, startReceiver } from '../helpers/receiver.js';
import { startSmtpServer } from '../helpers/smtp.js';

// A rolling deploy on one PostgreSQL: an instance of the older release (which delivers mail
// but knows nothing of webhooks) runs beside the newer one. Each claims only what it delivers.
let h: Harness;
const logged: Record<string, unknown>[] = [];
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  smtp = await startSmtpServer();
  receiver = await startReceiver();
  // The newer release's dispatcher starts only when the test says so.
  const log = new Writable({
    write(chunk, _encoding, done) {
      logged.push(JSON.parse(String(chunk)));
      done();
    },
  });
  h = await startHarness(
    { SIGNOFF_SMTP_URL: smtp.url },
    { workers: false, logger: createLogger('warn', log) },
  );
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
  await smtp.close();
});

async function outboxRows(approvalId: string) {
  return h.signoff.services.db
    .selectFrom('outbox')
    .select(['kind', 'status', 'attempts', 'last_error'])
    .where('approval_id', '=', approvalId)
    .orderBy('kind')
    .execute();
}

describe('during a rolling deploy', () => {
  it('an older release leaves a kind it does not know to the newer one, which delivers it; nothing is dead-lettered', async () => {
    const services = h.signoff.services;
    const older = createDispatcher(services, { email: createEmailNotifier(services) });
    const created = await h.api({
      method: 'POST',
      url: '/v1/approvals',
      payload: approvalBody({ title: 'Rolling deploy', callback: { type: 'webhook', url: receiver.url } }),
    });
    expect(created.statusCode).toBe(201);
    const { id } = created.json();

    // The older instance delivers the mail, and claims nothing else however often it looks.
    expect(await older.runOnce()).toBe(1);
    await smtp.waitForMails((mail) => mail.subject.includes('Rolling deploy'));
    expect(await older.runOnce()).toBe(0);
    expect(await outboxRows(id)).toEqual([
      { kind: 'email', status: 'delivered', attempts: 1, last_error: null },
      { kind: 'webhook', status: 'pending', attempts: 0, last_error: null },
    ]);
    expect(receiver.received).toHaveLength(0);
    // Started, the older instance says what it leaves to others.
    older.start();
    await eventually(() =>
      expect(logged).toContainEqual(expect.objectContaining({ kind: 'webhook', count: 1 })),
    );
    await older.stop();

    // The newer instance delivers what the older one left.
    h.signoff.dispatcher.start();
    const [callback] = await receiver.waitFor(1);
    expect(JSON.parse(callback?.body ?? '{}')).toMatchObject({ type: 'approval.created', data: { id } });
    const dead = await services.db.selectFrom('outbox').select('id').where('status', '=', 'dead').execute();
    expect(dead).toEqual([]);
  });

  it('a kind no running release knows waits, and the outbox list says why', async () => {
    const id = newId('msg');
    const now = new Date();
    await insertOutbox(h.signoff.services.db, {
      id,
      approvalId: null,
      kind: 'carrier-pigeon',
      payload: '{}',
      createdAt: now,
      dueAt: now,
    });
    // The newer release runs (started above) and does not claim it either.
    expect(await h.signoff.dispatcher.runOnce()).toBe(0);
    const list = await h.api({ method: 'GET', url: '/v1/outbox?status=pending' });
    expect(list.statusCode).toBe(200);
    const item = list.json().items.find((i: { id: string }) => i.id === id);
    expect(item).toMatchObject({ kind: 'carrier-pigeon', status: 'pending', attempts: 0, lastError: null });
    expect(item.warning).toMatch(/does not deliver.*carrier-pigeon/);
  });

  it('instances of the new release starting together record each changed policy once', async () => {
    const policies = join(h.dir, 'policies.yaml');
    writeFileSync(
      policies,
      'policies:\n  production:\n    stages:\n      - type: human\n        gates:\n          - approvers: [lead@example.com]\n',
    );
    const config = { ...h.signoff.services.config, policiesPath: policies };
    const started = await Promise.all([1, 2, 3].map(() => createSignoff(config, { workers: false })));
    await Promise.all(started.map((instance) => instance.close()));
    const log = (await h.api({ method: 'GET', url: '/v1/policies/production/versions' })).json();
    expect(log.items).toHaveLength(1);
    expect(log.items[0].version).toBe(started[0]?.services.policies.get('production')?.version);
    expect(log.broken).toBeNull();
  });
});

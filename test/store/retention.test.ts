import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/database.js';
import { insertLink, spendLink } from '../../src/store/links.js';
import { insertOutbox } from '../../src/store/outbox.js';
import { insertSignInLink, insertWebSession } from '../../src/store/web.js';
import { pruneRetained } from '../../src/worker/sweeper.js';
import { approvalBody, type Harness, startHarness } from '../helpers/harness.js';

const DAY = 86_400_000;
let h: Harness;
let db: Db;
let approvalId: string;

beforeAll(async () => {
  h = await startHarness({ SIGNOFF_RETENTION: '7d' }, { workers: false });
  db = h.signoff.services.db;
  approvalId = (
    await h.api({ method: 'POST', url: '/v1/approvals', payload: approvalBody({ notify: [] }) })
  ).json().id as string;
});
afterAll(async () => {
  await h.close();
});

const now = () => h.signoff.services.now().getTime();

async function addLink(tokenHash: string, expiresAt: number, usedAt?: number): Promise<void> {
  await insertLink(db, {
    tokenHash,
    approvalId,
    stage: 'default',
    approver: 'lead@example.com',
    createdAt: new Date(expiresAt - 3_600_000),
    expiresAt: new Date(expiresAt),
  });
  if (usedAt !== undefined) expect(await spendLink(db, tokenHash, new Date(usedAt))).toBe(true);
}

async function addOutbox(
  id: string,
  status: 'pending' | 'delivered' | 'dead',
  doneAt: number,
): Promise<void> {
  await insertOutbox(db, {
    id,
    approvalId,
    kind: 'webhook',
    payload: '{}',
    createdAt: new Date(doneAt),
    dueAt: new Date(doneAt),
  });
  if (status !== 'pending')
    await db
      .updateTable('outbox')
      .set({ status, delivered_at: status === 'delivered' ? doneAt : null })
      .where('id', '=', id)
      .execute();
}

async function linkHashes(prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('links')
    .select('token_hash')
    .where('token_hash', 'like', `${prefix}%`)
    .orderBy('token_hash')
    .execute();
  return rows.map((r) => r.token_hash);
}

async function outboxIds(prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('outbox')
    .select('id')
    .where('id', 'like', `${prefix}%`)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

describe('retention', () => {
  it('deletes delivered messages and spent links older than the retention, and nothing else', async () => {
    const old = now() - 8 * DAY;
    const recent = now() - 6 * DAY;
    await addLink('keep-unused', now() + 3_600_000);
    await addLink('keep-used-recently', now() + 3_600_000, recent);
    await addLink('keep-expired-recently', recent);
    await addLink('prune-used-long-ago', now() + 3_600_000, old);
    await addLink('prune-expired-long-ago', old);
    await addOutbox('msg_keep_pending', 'pending', old);
    await addOutbox('msg_keep_dead', 'dead', old);
    await addOutbox('msg_keep_delivered_recently', 'delivered', recent);
    await addOutbox('msg_prune_delivered_long_ago', 'delivered', old);

    expect(await pruneRetained(h.signoff.services)).toBe(false);

    expect(await linkHashes('keep-')).toHaveLength(3);
    expect(await linkHashes('prune-')).toEqual([]);
    expect(await outboxIds('msg_keep_')).toHaveLength(3);
    expect(await outboxIds('msg_prune_')).toEqual([]);
    // The approval and its history are not history to prune.
    expect((await h.api({ method: 'GET', url: `/v1/approvals/${approvalId}` })).statusCode).toBe(200);
  });

  it('deletes in batches and says when more is waiting', async () => {
    const old = now() - 30 * DAY;
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < 1001; i++)
        await trx
          .insertInto('outbox')
          .values({
            id: `msg_batch_${String(i).padStart(4, '0')}`,
            approval_id: approvalId,
            kind: 'webhook',
            payload: '{}',
            status: 'delivered',
            attempts: 1,
            next_attempt_at: old,
            last_error: null,
            created_at: old,
            delivered_at: old + i,
          })
          .execute();
    });
    expect(await pruneRetained(h.signoff.services)).toBe(true);
    // Oldest first: the newest one is what a full batch leaves behind.
    expect(await outboxIds('msg_batch_')).toEqual(['msg_batch_1000']);
    expect(await pruneRetained(h.signoff.services)).toBe(false);
    expect(await outboxIds('msg_batch_')).toEqual([]);
  });

  it('follows the clock: a link becomes prunable once the retention has passed', async () => {
    await addLink('later-used', now() + 3_600_000, now());
    await pruneRetained(h.signoff.services);
    expect(await linkHashes('later-')).toHaveLength(1);
    h.advance(7 * DAY + 60_000);
    await pruneRetained(h.signoff.services);
    expect(await linkHashes('later-')).toEqual([]);
  });

  it('deletes web sessions and sign-in links whose expiry is older than the retention', async () => {
    const session = (idHash: string, expiresAt: number) =>
      insertWebSession(db, {
        idHash,
        actor: 'lead@example.com',
        groups: [],
        grants: '{}',
        issuer: null,
        subject: null,
        createdAt: new Date(expiresAt - DAY),
        expiresAt: new Date(expiresAt),
      });
    const signIn = (tokenHash: string, expiresAt: number) =>
      insertSignInLink(db, {
        tokenHash,
        email: 'lead@example.com',
        createdAt: new Date(expiresAt - 900_000),
        expiresAt: new Date(expiresAt),
      });
    await session('session-old', now() - 8 * DAY);
    await session('session-recent', now() - DAY);
    await signIn('sign-in-old', now() - 8 * DAY);
    await signIn('sign-in-live', now() + 900_000);
    await pruneRetained(h.signoff.services);
    const sessions = await db.selectFrom('web_sessions').select('id_hash').execute();
    expect(sessions.map((r) => r.id_hash)).toEqual(['session-recent']);
    const links = await db.selectFrom('sign_in_links').select('token_hash').execute();
    expect(links.map((r) => r.token_hash)).toEqual(['sign-in-live']);
  });
});

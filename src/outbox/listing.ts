import type { Services } from '../services.js';
import { listOutbox, type OutboxStatus } from '../store/outbox.js';
import { isOutboxKind } from './kinds.js';

/** One queued, delivered or dead-lettered message as operators see it: its payload stays inside. */
export interface OutboxEntry {
  readonly id: string;
  readonly approvalId: string | null;
  readonly kind: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly nextAttemptAt: string;
  readonly deliveredAt: string | null;
  /** Why a pending message waits: a kind this release does not deliver. */
  readonly warning?: string;
}

/** The newest `limit` messages of one status. */
export async function listOutboxEntries(
  services: Services,
  status: OutboxStatus,
  limit: number,
): Promise<OutboxEntry[]> {
  const rows = await listOutbox(services.db, status, limit);
  const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
  return rows.map((row) => ({
    id: row.id,
    approvalId: row.approval_id,
    kind: row.kind,
    status: row.status as OutboxStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    nextAttemptAt: iso(row.next_attempt_at),
    deliveredAt: row.delivered_at === null ? null : iso(row.delivered_at),
    ...(row.status === 'pending' &&
      !isOutboxKind(row.kind) && {
        warning: `This release does not deliver "${row.kind}" messages: an instance of the release that queued it will.`,
      }),
  }));
}

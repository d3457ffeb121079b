import { createHash } from 'node:crypto';
import type { AuditEvent } from '../core/audit.js';
import { auditHashInput, type ChainedEvent } from '../core/audit-chain.js';
import { lockApproval } from './approvals.js';
import type { Db } from './database.js';
import { hotStatement } from './hot-statement.js';
import type { AuditEventsTable } from './schema.js';

/** A stored audit event with its place in the approval's chain. */
export interface StoredAuditEvent extends AuditEvent {
  readonly seq: number;
  readonly prevHash: string | null;
  readonly hash: string;
}

/** The end of an approval's chain, which the next event links to. */
export interface ChainEnd {
  readonly seq: number;
  readonly hash: string;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Holds the approval's row until the transaction ends, so two transactions appending to one
 * approval's chain take turns instead of both linking to the same last event. SQLite runs one
 * write transaction at a time, so it has nothing to lock.
 */
export async function lockChain(db: Db, approvalId: string): Promise<void> {
  await lockApproval(db, approvalId);
}

/** The last event of an approval's chain (one index lookup), or undefined before its first. */
export async function findChainEnd(db: Db, approvalId: string): Promise<ChainEnd | undefined> {
  return (await selectChainEnd(db, [approvalId])).rows[0];
}

const selectChainEnd = hotStatement<ChainEnd>(
  'select seq, hash from audit_events where approval_id = ? order by seq desc limit 1',
);
const insertAuditEvent = hotStatement(
  `insert into audit_events (id, approval_id, type, actor, data, at, seq, prev_hash, hash)
   values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);

/**
 * Appends one event after `end`, hashing it into the chain; returns the new end. Nothing ever
 * updates or deletes these rows; the unique (approval_id, seq) index refuses a second event
 * on the same link.
 */
export async function appendAudit(db: Db, event: AuditEvent, end: ChainEnd | undefined): Promise<ChainEnd> {
  const seq = (end?.seq ?? 0) + 1;
  const prevHash = end?.hash ?? null;
  const hash = sha256Hex(auditHashInput({ ...event, seq, prevHash, at: event.at.getTime() }));
  await insertAuditEvent(db, [
    event.id,
    event.approvalId,
    event.type,
    event.actor,
    JSON.stringify(event.data),
    event.at.getTime(),
    seq,
    prevHash,
    hash,
  ]);
  return { seq, hash };
}

function toStored(row: AuditEventsTable): StoredAuditEvent {
  return {
    id: row.id,
    approvalId: row.approval_id,
    type: row.type,
    actor: row.actor,
    data: JSON.parse(row.data) as Record<string, unknown>,
    at: new Date(Number(row.at)),
    seq: Number(row.seq),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** An approval's audit trail in chain order. */
export async function listAudit(db: Db, approvalId: string): Promise<StoredAuditEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('approval_id', '=', approvalId)
    .orderBy('seq')
    .execute();
  return rows.map(toStored);
}

/** The audit trails of some approvals, each in chain order (one query for them all). */
export async function listAuditOfApprovals(
  db: Db,
  approvalIds: readonly string[],
): Promise<StoredAuditEvent[]> {
  if (approvalIds.length === 0) return [];
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('approval_id', 'in', [...approvalIds])
    .orderBy('approval_id')
    .orderBy('seq')
    .execute();
  return rows.map(toStored);
}

/** A stored event as the chain verifier reads it. */
export function toChainedEvent(event: StoredAuditEvent): ChainedEvent {
  return { ...event, at: event.at.getTime() };
}

/** Approvals that have audit events, in id order, `limit` at a time after `after`. */
export async function listAuditedApprovals(db: Db, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('audit_events')
    .select('approval_id')
    .distinct()
    .where('approval_id', '>', after)
    .orderBy('approval_id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.approval_id);
}

/** Events written at or after `since` (epoch ms), in id (write) order, `limit` at a time after `afterId`. */
export async function listAuditSince(
  db: Db,
  since: number,
  afterId: string,
  limit: number,
): Promise<StoredAuditEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('at', '>=', since)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toStored);
}

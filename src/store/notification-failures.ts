import type { Db } from './database.js';

/** A notification given up on, as its dead-letter audit event recorded it. */
export interface DeadLetterEvent {
  readonly approvalId: string;
  readonly data: Record<string, unknown>;
  readonly at: Date;
}

/**
 * The `notification.dead_lettered` events of some approvals, oldest first. A search of the
 * (approval_id, id) index per approval: the cost does not grow with other approvals.
 */
export async function listDeadLetteredNotifications(
  db: Db,
  approvalIds: readonly string[],
): Promise<DeadLetterEvent[]> {
  if (approvalIds.length === 0) return [];
  const rows = await db
    .selectFrom('audit_events')
    .select(['approval_id', 'data', 'at'])
    .where('approval_id', 'in', approvalIds)
    .where('type', '=', 'notification.dead_lettered')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    approvalId: r.approval_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
    at: new Date(Number(r.at)),
  }));
}

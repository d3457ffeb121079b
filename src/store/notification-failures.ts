import type { Db } from './database.js';
import { hotStatement } from './hot-statement.js';

/** A notification given up on, as its dead-letter audit event recorded it. */
export interface DeadLetterEvent {
  readonly approvalId: string;
  readonly data: Record<string, unknown>;
  readonly at: Date;
}

const DEAD_LETTERED = 'notification.dead_lettered';

// Every read of one approval asks this.
const selectDeadLettersOfOne = hotStatement<{ approval_id: string; data: string; at: number }>(
  `select approval_id, data, at from audit_events where approval_id = ? and type = '${DEAD_LETTERED}' order by seq`,
);

/**
 * The `notification.dead_lettered` events of some approvals, each approval's in the order of
 * its chain (oldest first). A search of the chain's key (approval_id, seq) per approval, in
 * that order, with no sort: the cost does not grow with other approvals.
 */
export async function listDeadLetteredNotifications(
  db: Db,
  approvalIds: readonly string[],
): Promise<DeadLetterEvent[]> {
  if (approvalIds.length === 0) return [];
  const rows =
    approvalIds.length === 1
      ? (await selectDeadLettersOfOne(db, approvalIds)).rows
      : await db
          .selectFrom('audit_events')
          .select(['approval_id', 'data', 'at'])
          .where('approval_id', 'in', approvalIds)
          .where('type', '=', DEAD_LETTERED)
          .orderBy('approval_id')
          .orderBy('seq')
          .execute();
  return rows.map((r) => ({
    approvalId: r.approval_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
    at: new Date(Number(r.at)),
  }));
}

import type { Approval } from '../core/model.js';
import { withDecisions } from './approvals.js';
import type { Db } from './database.js';

/** Where a page of approvals by creation time ended: the next page starts after it. */
export interface CreatedCursor {
  readonly createdAt: number;
  readonly id: string;
}

/**
 * Approvals created at or after `from` and before `to` (epoch ms), oldest first, `limit` at a
 * time after `after`; read through the approvals_created index, with their decisions.
 */
export async function listApprovalsCreatedBetween(
  db: Db,
  period: { readonly from: number; readonly to: number },
  after: CreatedCursor | undefined,
  limit: number,
): Promise<Approval[]> {
  let query = db
    .selectFrom('approvals')
    .selectAll()
    .where('created_at', '>=', period.from)
    .where('created_at', '<', period.to);
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '>', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
      ]),
    );
  const rows = await query.orderBy('created_at').orderBy('id').limit(limit).execute();
  return withDecisions(db, rows);
}

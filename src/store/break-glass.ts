import type { BreakGlassReview, BrokenGlass, ReviewStatus } from '../core/break-glass.js';
import type { Db } from './database.js';
import type { BreakGlassReviewRow } from './schema.js';

function toReview(row: BreakGlassReviewRow): BreakGlassReview {
  return {
    approvalId: row.approval_id,
    brokenBy: row.broken_by,
    reason: row.reason,
    brokenAt: new Date(Number(row.broken_at)),
    reviewers: JSON.parse(row.reviewers) as string[],
    dueAt: new Date(Number(row.due_at)),
    status: row.status as ReviewStatus,
    reviewedBy: row.reviewed_by,
    reviewedAt: row.reviewed_at === null ? null : new Date(Number(row.reviewed_at)),
    comment: row.comment,
  };
}

/** Opens the after-review of a broken glass. */
export async function insertBreakGlassReview(db: Db, approvalId: string, broken: BrokenGlass): Promise<void> {
  await db
    .insertInto('break_glass_reviews')
    .values({
      approval_id: approvalId,
      broken_by: broken.by,
      reason: broken.reason,
      broken_at: broken.at.getTime(),
      reviewers: JSON.stringify(broken.reviewers),
      due_at: broken.reviewDueAt.getTime(),
      status: 'open',
      reviewed_by: null,
      reviewed_at: null,
      comment: null,
    })
    .execute();
}

export async function findBreakGlassReview(
  db: Db,
  approvalId: string,
): Promise<BreakGlassReview | undefined> {
  const row = await db
    .selectFrom('break_glass_reviews')
    .selectAll()
    .where('approval_id', '=', approvalId)
    .executeTakeFirst();
  return row && toReview(row);
}

/** Closes an open review; false when someone closed it first. */
export async function closeBreakGlassReview(
  db: Db,
  approvalId: string,
  outcome: { status: Exclude<ReviewStatus, 'open'>; by: string; at: Date; comment: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('break_glass_reviews')
    .set({
      status: outcome.status,
      reviewed_by: outcome.by,
      reviewed_at: outcome.at.getTime(),
      comment: outcome.comment,
    })
    .where('approval_id', '=', approvalId)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Reviews by status, the most urgent first; `overdueAt` keeps the open ones past their deadline. */
export async function listBreakGlassReviews(
  db: Db,
  query: { status?: ReviewStatus | undefined; overdueAt?: Date | undefined; limit: number },
): Promise<BreakGlassReview[]> {
  const rows = await db
    .selectFrom('break_glass_reviews')
    .selectAll()
    .$if(query.status !== undefined, (q) => q.where('status', '=', query.status as ReviewStatus))
    .$if(query.overdueAt !== undefined, (q) =>
      q.where('status', '=', 'open').where('due_at', '<', (query.overdueAt as Date).getTime()),
    )
    .orderBy('due_at')
    .orderBy('approval_id')
    .limit(query.limit)
    .execute();
  return rows.map(toReview);
}

/** How many reviews are open past their deadline now (the metric). */
export async function countOverdueBreakGlassReviews(db: Db, now: Date): Promise<number> {
  const row = await db
    .selectFrom('break_glass_reviews')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('status', '=', 'open')
    .where('due_at', '<', now.getTime())
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

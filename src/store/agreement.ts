import { sql } from 'kysely';
import type { Approval } from '../core/model.js';
import type { Db } from './database.js';

/**
 * Adds a decided approval to the agreement counts of its named policy: for each AI stage
 * that advised or shadowed, whether its verdict matched the final outcome. Counting as the
 * approval ends keeps reading the figure one indexed lookup, however many approvals exist.
 */
export async function countAgreement(db: Db, approval: Approval): Promise<void> {
  const policy = approval.policy.name;
  if (!policy || (approval.status !== 'approved' && approval.status !== 'rejected')) return;
  const outcome = approval.status === 'approved' ? 'approve' : 'reject';
  for (const result of approval.results) {
    const review = result.review;
    if (!review || review.mode === 'decide') continue;
    const counts = {
      agreed: review.verdict === outcome ? 1 : 0,
      disagreed: review.verdict && review.verdict !== 'escalate' && review.verdict !== outcome ? 1 : 0,
      escalated: review.verdict === null || review.verdict === 'escalate' ? 1 : 0,
    };
    await db
      .insertInto('ai_agreement')
      .values({ policy, stage: result.stage, mode: review.mode, ...counts })
      .onConflict((oc) =>
        oc.columns(['policy', 'stage']).doUpdateSet({
          mode: review.mode,
          agreed: sql`ai_agreement.agreed + ${counts.agreed}`,
          disagreed: sql`ai_agreement.disagreed + ${counts.disagreed}`,
          escalated: sql`ai_agreement.escalated + ${counts.escalated}`,
        }),
      )
      .execute();
  }
}

/** The agreement counts of one policy's AI stages. */
export async function findAgreement(db: Db, policy: string) {
  return db
    .selectFrom('ai_agreement')
    .select(['stage', 'mode', 'agreed', 'disagreed', 'escalated'])
    .where('policy', '=', policy)
    .orderBy('stage')
    .execute();
}

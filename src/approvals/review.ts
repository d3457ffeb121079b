import { judgeReview } from '../core/review.js';
import { advance, currentStage } from '../core/stages.js';
import type { AiReviewer } from '../reviewers/ai.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import type { DeliveryReport, OutboxHandler } from '../worker/delivery.js';
import type { ReviewPayload } from './messages.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/**
 * Runs an AI stage: asks the reviewer outside any transaction, then records its verdict and
 * moves the approval on, if the stage still waits. Without a reviewer configured the stage
 * hands over, as it would on any other failure.
 */
export function createReviewHandler(services: Services, reviewer: AiReviewer | undefined): OutboxHandler {
  return {
    // The model's own timeout, and time to record its verdict.
    deadlineMs: services.config.aiTimeoutMs + services.config.httpTimeoutMs,
    async deliver(_row, payload): Promise<DeliveryReport> {
      const { approvalId, stage: name } = payload as ReviewPayload;
      const approval = await findApproval(services.db, approvalId);
      const stage = approval && currentStage(approval);
      if (!approval || stage?.name !== name || stage.type !== 'ai')
        return { skipped: 'stage is no longer waiting', silent: true };
      const review = reviewer
        ? await reviewer.review(approval, stage)
        : {
            model: 'none',
            mode: stage.mode,
            verdict: null,
            confidence: null,
            rationale: null,
            error: 'SIGNOFF_AI_URL is not set',
          };
      await withApproval(services, approvalId, async (tx, fresh) => {
        const now = services.now();
        // The approval may have run out while the model thought; the sweeper will expire it.
        if (currentStage(fresh)?.name !== name || now >= fresh.expiresAt) return;
        const result = judgeReview(stage, review, now);
        const after = advance({ ...fresh, results: [...fresh.results, result] }, now, reviewRules);
        await commitTransition(tx, services, { before: fresh, after, actor: null, now });
      });
      return { silent: true };
    },
  };
}

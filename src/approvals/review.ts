import { NOTIFICATION_EVENTS } from '../core/audit.js';
import { judgeReview } from '../core/review.js';
import { advance, currentStage, waitingStage } from '../core/stages.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { AiReviewer } from '../reviewers/ai.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/**
 * Runs an AI stage: asks the reviewer outside any transaction, then records its verdict and
 * moves the approval on, if the stage still waits. Without a reviewer configured the stage
 * hands over, as it would on any other failure.
 */
export function createReviewHandler(
  services: Services,
  reviewer: AiReviewer | undefined,
): OutboxHandler<'review'> {
  return {
    // Reviews audit their verdict with the state change they cause; only failures are the outbox's.
    events: NOTIFICATION_EVENTS,
    // The model's own timeout, and time to record its verdict.
    deadlineMs: services.config.aiTimeoutMs + services.config.httpTimeoutMs,
    async deliver({ payload: { approvalId, stage: name } }) {
      const waiting = waitingStage(await findApproval(services.db, approvalId), name, { type: 'ai' });
      if ('skipped' in waiting) return { ...waiting, silent: true };
      const { approval, stage } = waiting;
      const started = performance.now();
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
      if (reviewer)
        services.observer.observe({
          type: 'ai.review',
          verdict: review.error !== null || review.verdict === null ? 'error' : review.verdict,
          durationMs: performance.now() - started,
        });
      await withApproval(services, approvalId, async (unit, fresh) => {
        // The approval may have run out while the model thought; the sweeper will expire it.
        if (currentStage(fresh)?.name !== name || unit.now >= fresh.expiresAt) return;
        const result = judgeReview(stage, review, unit.now);
        const after = advance({ ...fresh, results: [...fresh.results, result] }, unit.now, reviewRules);
        await commitTransition(unit, { before: fresh, after, actor: null });
      });
      return { silent: true };
    },
  };
}

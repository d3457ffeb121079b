import type { AiReview, AiStage, Approval, StageResult } from './model.js';

function describe(review: AiReview): string {
  const confidence = review.confidence === null ? '' : `, confidence ${review.confidence}`;
  return `AI reviewer (${review.model}${confidence})${review.rationale ? `: ${review.rationale}` : ''}`;
}

/**
 * Turns what an AI reviewer said into the stage's result. Only a `decide` stage's verdict
 * counts, and only when it is well formed and confident enough; anything else hands over to
 * the next stage. An approval is never granted on an error, and never by a stage that may
 * not approve.
 */
export function judgeReview(stage: AiStage, review: AiReview, now: Date): StageResult {
  const base = { stage: stage.name, via: 'ai' as const, at: now, review };
  const skip = (why: string): StageResult => ({ ...base, outcome: 'skip', reason: why });
  if (review.error !== null || review.verdict === null)
    return skip(`AI review failed (${review.error ?? 'no verdict'}); handed over`);
  if (stage.mode !== 'decide')
    return skip(`AI reviewer ${stage.mode === 'advise' ? 'advised' : 'shadowed'} ${review.verdict}`);
  if (review.verdict === 'escalate') return skip(`${describe(review)}; handed over`);
  if ((review.confidence ?? 0) < stage.minConfidence)
    return skip(`AI reviewer said ${review.verdict} below confidence ${stage.minConfidence}; handed over`);
  if (review.verdict === 'approve' && !stage.canApprove)
    return skip(`AI reviewer would approve but may not approve alone; handed over`);
  return {
    ...base,
    outcome: review.verdict,
    reason: `${review.verdict === 'approve' ? 'Approved' : 'Rejected'} by ${describe(review)}`,
  };
}

/**
 * What AI reviewers said, for the people who decide next: `advise` and `decide` stages are
 * shown, `shadow` stages never are.
 */
export function adviceFor(approval: Approval): string[] {
  return approval.results.flatMap((result) => {
    const review = result.review;
    if (!review || review.mode === 'shadow') return [];
    if (review.verdict === null) return [`AI reviewer (${review.model}) could not review: ${review.error}`];
    return [
      `AI reviewer (${review.model}) says ${review.verdict}, confidence ${review.confidence}: ${review.rationale ?? ''}`.trim(),
    ];
  });
}

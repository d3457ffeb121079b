import { fail, type Result } from './errors.js';
import { normalizeIdentity } from './identity.js';
import type { Actor, Approval } from './model.js';
import { seatIdentity } from './seat.js';
import {
  currentStage,
  effectiveGates,
  evaluateStages,
  finish,
  isRequester,
  matchesApprover,
} from './stages.js';

/*
 * Break-glass: in an emergency, someone holding `approvals:break-glass` approves a pending
 * approval at once, with a reason. It is loud, and it is checked afterwards: the approvers of
 * the gate it skipped are asked to confirm or flag it within a deadline. Never by the requester.
 */

/** How the glass was broken, kept with the approval. */
export interface BrokenGlass {
  readonly by: string;
  readonly reason: string;
  readonly at: Date;
  /** The stage that was waiting, and whom its open gates still asked: they review it. */
  readonly stage: string;
  readonly reviewers: readonly string[];
  readonly reviewDueAt: Date;
}

/**
 * Whom what the glass skips still asks: the open gates of the waiting stage and every human
 * stage after it, but for those who approved already and the one who breaks it (a group
 * stays: any other member of it may review).
 */
function skippedApprovers(approval: Approval, by: string): string[] {
  const states = evaluateStages(approval);
  const from = Math.max(
    0,
    states.findIndex((s) => s.status === 'pending'),
  );
  const entries = approval.policy.stages.slice(from).flatMap((stage, offset) => {
    if (stage.type !== 'human') return [];
    const state = states[from + offset];
    const approved = new Set(state?.gates.flatMap((g) => g.approvals.map(seatIdentity)) ?? []);
    return effectiveGates(approval, stage)
      .filter((_, i) => !state?.gates[i]?.passed)
      .flatMap((gate) => gate.approvers)
      .filter((entry) => !approved.has(entry));
  });
  return [...new Set(entries)].filter((entry) => entry !== by);
}

/** Approves `approval` at once by break-glass; the requester may never, and the reason is required. */
export function breakGlass(
  approval: Approval,
  actor: Actor,
  reason: string,
  now: Date,
  reviewWithinMs: number,
): Result<{ approval: Approval; broken: BrokenGlass }> {
  if (approval.status !== 'pending')
    return fail('already_decided', `This approval is already ${approval.status}.`);
  if (now >= approval.expiresAt) return fail('already_decided', 'This approval has timed out.');
  const by = normalizeIdentity(actor.id);
  if (isRequester(approval, { actor: by, issuer: actor.issuer, subject: actor.subject }))
    return fail('self_approval', 'The requester may not break the glass on their own request.');
  if (!reason.trim()) return fail('invalid_input', 'Breaking the glass needs a reason.');
  const stage = currentStage(approval);
  if (!stage) return fail('already_decided', 'No stage of this approval is waiting.');
  const reviewers = skippedApprovers(approval, by);
  if (reviewers.length === 0)
    return fail(
      'invalid_input',
      'Nobody but you is asked in what the glass would skip: nobody could review it.',
    );
  const broken: BrokenGlass = {
    by,
    reason: reason.trim(),
    at: now,
    stage: stage.name,
    reviewers,
    reviewDueAt: new Date(now.getTime() + reviewWithinMs),
  };
  const ended = finish(approval, 'approved', now, `Break-glass by ${by}: ${broken.reason}`);
  return { ok: true, approval: { ...ended, breakGlass: broken }, broken };
}

export type ReviewVerdict = 'confirm' | 'flag';
export type ReviewStatus = 'open' | 'confirmed' | 'flagged';

/** The after-review of a broken glass: open until someone it skipped confirms or flags it. */
export interface BreakGlassReview {
  readonly approvalId: string;
  readonly brokenBy: string;
  readonly reason: string;
  readonly brokenAt: Date;
  readonly reviewers: readonly string[];
  readonly dueAt: Date;
  readonly status: ReviewStatus;
  readonly reviewedBy: string | null;
  readonly reviewedAt: Date | null;
  readonly comment: string | null;
}

/**
 * Who may review a broken glass: someone it skipped (an approver of its open gates, or of a
 * group among them), never the one who broke it and never the requester.
 */
export function mayReview(approval: Approval, broken: BrokenGlass, actor: Actor): Result<object> {
  const id = normalizeIdentity(actor.id);
  if (id === broken.by)
    return fail('self_approval', 'Whoever broke the glass may not review it: someone else must.');
  if (isRequester(approval, { actor: id, issuer: actor.issuer, subject: actor.subject }))
    return fail('self_approval', 'The requester may not review the break-glass of their own request.');
  if (!broken.reviewers.some((entry) => matchesApprover(entry, { id, groups: actor.groups })))
    return fail('not_approver', `${id} was not asked in the gate this break-glass skipped.`);
  return { ok: true };
}

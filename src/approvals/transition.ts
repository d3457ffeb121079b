import { resumeTime } from '../core/change-window.js';
import type { Approval, Decision } from '../core/model.js';
import { currentStage } from '../core/stages.js';
import { policyLabel } from '../observer.js';
import { countAgreement } from '../store/agreement.js';
import { insertDecision, updateApprovalState } from '../store/approvals.js';
import { audit } from '../unit-of-work/audit.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import { queueResume, queueWebhookEvent, startStage } from './messages.js';
import { queueSlackSync } from './slack-messages.js';
import { VersionConflict } from './transaction.js';

const TERMINAL_AUDIT = {
  approved: 'approval.approved',
  rejected: 'approval.rejected',
  expired: 'approval.expired',
  cancelled: 'approval.cancelled',
} as const;

/**
 * Writes one state change: the new status (only if nobody changed it since `before`),
 * the decision if any, its audit events and the messages it causes — all in the unit.
 */
export async function commitTransition(
  unit: UnitOfWork,
  change: { before: Approval; after: Approval; decision?: Decision; actor: string | null },
): Promise<void> {
  const { before, after, decision, actor } = change;
  if (!(await updateApprovalState(unit.db, after, before.version))) throw new VersionConflict();
  unit.afterCommit.publishChange(after.id);
  // Every Slack message of the approval shows the change, whichever channel made it.
  await queueSlackSync(unit, { before, after, decision });
  if (decision) {
    await insertDecision(unit.db, after.id, decision);
    await audit(unit, after.id, {
      type: 'approval.decision',
      actor: decision.actor,
      data: {
        stage: decision.stage,
        verdict: decision.verdict,
        comment: decision.comment,
        via: decision.via,
        ip: decision.ip,
        issuer: decision.issuer,
        subject: decision.subject,
        ...(decision.inputs && { inputs: decision.inputs }),
        ...(decision.onBehalfOf && { onBehalfOf: decision.onBehalfOf }),
      },
    });
  }
  // Only an outcome a person's verdict settled scores the AI (not one a rule settled after it).
  const byHuman = decision !== undefined && after.results.length === before.results.length;
  await recordProgress(unit, { before, after, actor, byHuman });
}

/**
 * Audits and queues what follows from a change (or from a creation, when `before` is null):
 * new stage results and escalations, the end of the approval with its callback, or the
 * start of the stage that waits now.
 */
export async function recordProgress(
  unit: UnitOfWork,
  change: { before: Approval | null; after: Approval; actor: string | null; byHuman: boolean },
): Promise<void> {
  const { before, after, actor } = change;
  const policy = policyLabel(after.policy);
  if (!before) unit.afterCommit.observe({ type: 'approval.created', policy });
  for (const result of after.results.slice(before?.results.length ?? 0)) {
    const { at: _at, ...data } = result;
    await audit(unit, after.id, { type: 'stage.result', actor: result.via, data: { ...data } });
  }
  for (const escalation of after.escalations.slice(before?.escalations.length ?? 0))
    await audit(unit, after.id, {
      type: 'approval.escalated',
      actor: null,
      data: { stage: escalation.stage, approvers: escalation.approvers },
    });
  if (after.status !== 'pending') {
    unit.afterCommit.observe({
      type: 'approval.ended',
      outcome: after.status,
      policy,
      durationMs: unit.now.getTime() - after.createdAt.getTime(),
    });
    await audit(unit, after.id, {
      type: TERMINAL_AUDIT[after.status],
      actor,
      data: { reason: after.reason },
    });
    // An approved change resumes when the policy's change window opens (break-glass: at once).
    const resumeAt = resumeTime(after, unit.now);
    await queueWebhookEvent(unit, after, 'approval.decided', resumeAt);
    await queueResume(unit, after, resumeAt);
    // The AI's advice is scored only against outcomes people decided.
    if (change.byHuman) await countAgreement(unit.db, after);
    return;
  }
  const waiting = currentStage(after);
  if (waiting && waiting.name !== (before && currentStage(before)?.name)) {
    await startStage(unit, after);
    if (before) await queueWebhookEvent(unit, after, 'approval.stage_passed');
  }
}

import type { Approval, Decision } from '../core/model.js';
import { currentStage } from '../core/stages.js';
import type { Services } from '../services.js';
import { countAgreement } from '../store/agreement.js';
import { insertDecision, updateApprovalState } from '../store/approvals.js';
import type { Db } from '../store/database.js';
import { audit } from './audit.js';
import { queueResume, queueWebhookEvent, startStage } from './messages.js';
import { VersionConflict } from './transaction.js';

const TERMINAL_AUDIT = {
  approved: 'approval.approved',
  rejected: 'approval.rejected',
  expired: 'approval.expired',
  cancelled: 'approval.cancelled',
} as const;

/**
 * Writes one state change: the new status (only if nobody changed it since `before`),
 * the decision if any, its audit events and the messages it causes — all in `tx`.
 */
export async function commitTransition(
  tx: Db,
  services: Services,
  change: { before: Approval; after: Approval; decision?: Decision; actor: string | null; now: Date },
): Promise<void> {
  const { before, after, decision, actor, now } = change;
  if (!(await updateApprovalState(tx, after, before.version))) throw new VersionConflict();
  if (decision) {
    await insertDecision(tx, after.id, decision);
    await audit(
      tx,
      services,
      after.id,
      'approval.decision',
      decision.actor,
      {
        stage: decision.stage,
        verdict: decision.verdict,
        comment: decision.comment,
        via: decision.via,
        ip: decision.ip,
        issuer: decision.issuer,
        subject: decision.subject,
      },
      now,
    );
  }
  // Only an outcome a person's verdict settled scores the AI (not one a rule settled after it).
  const byHuman = decision !== undefined && after.results.length === before.results.length;
  await recordProgress(tx, services, { before, after, actor, now, byHuman });
}

/**
 * Audits and queues what follows from a change (or from a creation, when `before` is null):
 * new stage results and escalations, the end of the approval with its callback, or the
 * start of the stage that waits now.
 */
export async function recordProgress(
  tx: Db,
  services: Services,
  change: { before: Approval | null; after: Approval; actor: string | null; now: Date; byHuman: boolean },
): Promise<void> {
  const { before, after, actor, now } = change;
  for (const result of after.results.slice(before?.results.length ?? 0)) {
    const { at: _at, ...data } = result;
    await audit(tx, services, after.id, 'stage.result', result.via, { ...data }, now);
  }
  for (const escalation of after.escalations.slice(before?.escalations.length ?? 0))
    await audit(
      tx,
      services,
      after.id,
      'approval.escalated',
      null,
      { stage: escalation.stage, approvers: escalation.approvers },
      now,
    );
  if (after.status !== 'pending') {
    await audit(tx, services, after.id, TERMINAL_AUDIT[after.status], actor, { reason: after.reason }, now);
    await queueWebhookEvent(tx, services, after, 'approval.decided', now);
    await queueResume(tx, services, after, now);
    // The AI's advice is scored only against outcomes people decided.
    if (change.byHuman) await countAgreement(tx, after);
    return;
  }
  const waiting = currentStage(after);
  if (waiting && waiting.name !== (before && currentStage(before)?.name)) {
    await startStage(tx, services, after, now);
    if (before) await queueWebhookEvent(tx, services, after, 'approval.stage_passed', now);
  }
}

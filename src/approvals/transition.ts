import type { DecisionOutcome } from '../core/approval.js';
import type { Approval, Decision } from '../core/model.js';
import type { Services } from '../services.js';
import { insertDecision, updateApprovalState } from '../store/approvals.js';
import type { Db } from '../store/database.js';
import { audit } from './audit.js';
import { queueResume, queueStageNotifications, queueWebhookEvent } from './messages.js';
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
  change: {
    before: Approval;
    after: Approval;
    decision?: Decision;
    outcome?: DecisionOutcome;
    actor: string | null;
    now: Date;
  },
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
  if (after.status !== 'pending') {
    await audit(tx, services, after.id, TERMINAL_AUDIT[after.status], actor, { reason: after.reason }, now);
    await queueWebhookEvent(tx, services, after, 'approval.decided', now);
    await queueResume(tx, services, after, now);
  } else if (change.outcome === 'stage_passed') {
    await queueStageNotifications(tx, services, after, now);
    await queueWebhookEvent(tx, services, after, 'approval.stage_passed', now);
  }
}

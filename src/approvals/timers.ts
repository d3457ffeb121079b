import { formatDuration } from '../core/duration.js';
import type { Approval, HumanStage, StageResult } from '../core/model.js';
import { advance, currentStage } from '../core/stages.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import type { Db } from '../store/database.js';
import type { DeliveryReport, OutboxHandler } from '../worker/delivery.js';
import { audit } from './audit.js';
import { queueStageNotifications, queueTimer, type TimerPayload } from './messages.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/** Mails the approvers who have not decided, and schedules the next reminder. */
async function remind(
  tx: Db,
  services: Services,
  approval: Approval,
  stage: HumanStage,
  timer: TimerPayload,
  now: Date,
) {
  const people = await queueStageNotifications(tx, services, approval, now, { reminder: true });
  await audit(
    tx,
    services,
    approval.id,
    'approval.reminded',
    null,
    { stage: stage.name, approvers: people, sequence: timer.sequence },
    now,
  );
  if (!stage.remindEveryMs || !stage.remindAfterMs) return;
  // A fixed schedule from the stage's start; slots missed while no worker ran are skipped,
  // so a late worker sends one reminder, not a burst.
  const first = Date.parse(timer.startedAt) + stage.remindAfterMs;
  const sequence = Math.max(timer.sequence, Math.floor((now.getTime() - first) / stage.remindEveryMs) + 1);
  const next = new Date(first + sequence * stage.remindEveryMs);
  await queueTimer(tx, approval, { ...timer, sequence: sequence + 1 }, next, now);
}

/** Adds `escalateTo` to every gate of the waiting stage and mails the people among them. */
async function escalate(tx: Db, services: Services, approval: Approval, stage: HumanStage, now: Date) {
  // A redelivered timer must not escalate (and mail) twice.
  if (approval.escalations.some((e) => e.stage === stage.name)) return;
  const added = [...(stage.escalateTo ?? [])];
  // More approvers can re-seat approvals already given and so pass the stage: move on if it does.
  const after = advance(
    { ...approval, escalations: [...approval.escalations, { stage: stage.name, approvers: added, at: now }] },
    now,
    reviewRules,
  );
  await commitTransition(tx, services, { before: approval, after, actor: null, now });
  await queueStageNotifications(tx, services, after, now, { only: new Set(added) });
}

const TIMEOUT_OUTCOMES = { reject: 'reject', approve: 'pass', escalate: 'skip' } as const;

/** Ends the waiting stage as its `onTimeout` says (reject unless told otherwise). */
async function timeOut(
  tx: Db,
  services: Services,
  approval: Approval,
  stage: HumanStage,
  timer: TimerPayload,
  now: Date,
) {
  const action = stage.onTimeout ?? 'reject';
  const waited = formatDuration(now.getTime() - Date.parse(timer.startedAt));
  const result: StageResult = {
    stage: stage.name,
    outcome: TIMEOUT_OUTCOMES[action],
    via: 'timeout',
    reason: `Stage "${stage.name}" timed out after ${waited} (onTimeout: ${action})`,
    at: now,
  };
  const after = advance({ ...approval, results: [...approval.results, result] }, now, reviewRules);
  await commitTransition(tx, services, { before: approval, after, actor: null, now });
}

/**
 * Handles a stage's timers (reminder, escalation, timeout) when they fall due. A timer whose
 * stage no longer waits does nothing, so nothing is sent after the decision.
 */
export function createTimerHandler(services: Services): OutboxHandler {
  return {
    async deliver(_row, payload): Promise<DeliveryReport> {
      const timer = payload as TimerPayload;
      return withApproval(services, timer.approvalId, async (tx, approval) => {
        const now = services.now();
        const stage = currentStage(approval);
        if (approval.status !== 'pending' || now >= approval.expiresAt)
          return { skipped: 'approval is no longer pending', silent: true };
        if (stage?.name !== timer.stage || stage.type !== 'human')
          return { skipped: 'stage is no longer waiting', silent: true };
        if (timer.action === 'remind') await remind(tx, services, approval, stage, timer, now);
        else if (timer.action === 'escalate') await escalate(tx, services, approval, stage, now);
        else await timeOut(tx, services, approval, stage, timer, now);
        return { silent: true };
      });
    },
  };
}

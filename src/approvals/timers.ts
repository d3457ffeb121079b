import { NOTIFICATION_EVENTS } from '../core/audit.js';
import { formatDuration } from '../core/duration.js';
import type { Approval, HumanStage, StageResult } from '../core/model.js';
import { advance, approversToNotify, waitingStage } from '../core/stages.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { TimerPayload } from '../outbox/kinds.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import { audit } from '../unit-of-work/audit.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import { queueStageNotifications, queueTimer } from './messages.js';
import { queueSlackPosts, queueSlackUpdates } from './slack-messages.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/** The waiting human stage a timer acts on, with the timer itself. */
interface DueTimer {
  readonly approval: Approval;
  readonly stage: HumanStage;
  readonly timer: TimerPayload;
}

/** Mails the approvers who have not decided, and schedules the next reminder. */
async function remind(unit: UnitOfWork, { approval, stage, timer }: DueTimer) {
  const people = await queueStageNotifications(unit, approval, { reminder: true });
  if (stage.slack) {
    const waiting = approversToNotify(approval);
    await queueSlackUpdates(
      unit,
      approval.id,
      `Reminder: stage ${stage.name} still waits${waiting.length > 0 ? ` for ${waiting.join(', ')}` : ''}.`,
      { stage: stage.name },
    );
  }
  await audit(unit, approval.id, {
    type: 'approval.reminded',
    actor: null,
    data: { stage: stage.name, approvers: people, sequence: timer.sequence },
  });
  if (!stage.remindEveryMs || !stage.remindAfterMs) return;
  // A fixed schedule from the stage's start; slots missed while no worker ran are skipped,
  // so a late worker sends one reminder, not a burst.
  const first = Date.parse(timer.startedAt) + stage.remindAfterMs;
  const elapsed = unit.now.getTime() - first;
  const sequence = Math.max(timer.sequence, Math.floor(elapsed / stage.remindEveryMs) + 1);
  const next = new Date(first + sequence * stage.remindEveryMs);
  await queueTimer(unit, approval, { ...timer, sequence: sequence + 1 }, next);
}

/** Adds `escalateTo` to every gate of the waiting stage and mails the people among them. */
async function escalate(unit: UnitOfWork, { approval, stage }: DueTimer) {
  // A redelivered timer must not escalate (and mail) twice.
  if (approval.escalations.some((e) => e.stage === stage.name)) return;
  const added = [...(stage.escalateTo ?? [])];
  const escalation = { stage: stage.name, approvers: added, at: unit.now };
  // More approvers can re-seat approvals already given and so pass the stage: move on if it does.
  const after = advance(
    { ...approval, escalations: [...approval.escalations, escalation] },
    unit.now,
    reviewRules,
  );
  await commitTransition(unit, { before: approval, after, actor: null });
  await queueStageNotifications(unit, after, { only: new Set(added) });
  await queueSlackPosts(unit, after, { only: new Set(added) });
}

const TIMEOUT_OUTCOMES = { reject: 'reject', approve: 'pass', escalate: 'skip' } as const;

/** Ends the waiting stage as its `onTimeout` says (reject unless told otherwise). */
async function timeOut(unit: UnitOfWork, { approval, stage, timer }: DueTimer) {
  const action = stage.onTimeout ?? 'reject';
  const waited = formatDuration(unit.now.getTime() - Date.parse(timer.startedAt));
  const result: StageResult = {
    stage: stage.name,
    outcome: TIMEOUT_OUTCOMES[action],
    via: 'timeout',
    reason: `Stage "${stage.name}" timed out after ${waited} (onTimeout: ${action})`,
    at: unit.now,
  };
  const after = advance({ ...approval, results: [...approval.results, result] }, unit.now, reviewRules);
  await commitTransition(unit, { before: approval, after, actor: null });
}

const ACTIONS = { remind, escalate, timeout: timeOut } as const;

/**
 * Handles a stage's timers (reminder, escalation, timeout) when they fall due. A timer whose
 * stage no longer waits does nothing, so nothing is sent after the decision.
 */
export function createTimerHandler(services: Services): OutboxHandler<'timer'> {
  return {
    events: NOTIFICATION_EVENTS,
    async deliver({ payload: timer }) {
      return withApproval(services, timer.approvalId, async (unit, approval) => {
        const waiting = waitingStage(approval, timer.stage, { type: 'human', now: unit.now });
        if ('skipped' in waiting) return { ...waiting, silent: true };
        await ACTIONS[timer.action](unit, { ...waiting, timer });
        return { silent: true };
      });
    },
  };
}

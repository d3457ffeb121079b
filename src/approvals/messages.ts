import type { Approval, HumanStage } from '../core/model.js';
import { approversToNotify, currentStage } from '../core/stages.js';
import { enqueue } from '../outbox/enqueue.js';
import type { EmailPayload, TimerPayload, WebhookEventType } from '../outbox/kinds.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import { askInsteadOf } from './delegation.js';
import { queueSlackPosts } from './slack-messages.js';
import { loadApprovalView } from './view.js';

/** Queues a mail with a fresh link for one approver of one stage. */
export async function queueEmail(unit: UnitOfWork, payload: EmailPayload): Promise<void> {
  await enqueue(unit, 'email', payload);
}

/**
 * Queues mails for everyone the waiting stage needs who has not decided (or only for `only`),
 * if the approval asked for email; returns who will be mailed.
 */
export async function queueStageNotifications(
  unit: UnitOfWork,
  approval: Approval,
  options: { reminder?: boolean; only?: ReadonlySet<string> } = {},
): Promise<string[]> {
  const stage = currentStage(approval);
  if (!stage || !approval.notify.includes('email')) return [];
  const people = approversToNotify(approval).filter((p) => !options.only || options.only.has(p));
  for (const person of people) {
    // Someone away who delegated is asked through their delegate.
    const { to, forApprover } = await askInsteadOf(unit.db, person, approval.requester, unit.now);
    await queueEmail(unit, {
      approvalId: approval.id,
      stage: stage.name,
      approver: to,
      renewed: false,
      reminder: options.reminder,
      ...(forApprover && { forApprover }),
    });
  }
  return people;
}

/** Queues one event for the approval's webhook callback; the snapshot is taken now. */
export async function queueWebhookEvent(
  unit: UnitOfWork,
  approval: Approval,
  type: WebhookEventType,
  dueAt?: Date,
): Promise<void> {
  if (approval.callback?.type !== 'webhook') return;
  const payload = {
    approvalId: approval.id,
    type,
    timestamp: unit.now.toISOString(),
    data: await loadApprovalView(unit.db, approval),
  };
  await enqueue(unit, 'webhook', payload, { dueAt });
}

/**
 * Queues the resumption of the waiting workflow for callbacks other than webhooks
 * (CodePipeline, Step Functions, CloudFormation, a GitHub deployment); webhooks get
 * `approval.decided` instead.
 */
export async function queueResume(unit: UnitOfWork, approval: Approval, dueAt?: Date): Promise<void> {
  const callback = approval.callback;
  if (!callback || callback.type === 'webhook') return;
  const data = await loadApprovalView(unit.db, approval);
  if (callback.type === 'github') {
    const { type: _, ...target } = callback;
    await enqueue(unit, 'github-answer', { approvalId: approval.id, target, data }, { dueAt });
    return;
  }
  await enqueue(unit, 'resume', { approvalId: approval.id, data }, { dueAt });
}

/** The id part of an approval id, for message ids derived from it. */
function idSuffix(approval: Approval): string {
  return approval.id.slice('apr_'.length);
}

function stageIndex(approval: Approval, stageName: string): number {
  return approval.policy.stages.findIndex((s) => s.name === stageName);
}

/**
 * Queues heartbeat number `sequence` of a pending approval, due `sequence` intervals after
 * it was created (a fixed schedule, however late the previous one went out). The id comes
 * from the approval and the sequence, so a retried step never starts a second chain.
 */
export async function queueHeartbeat(unit: UnitOfWork, approval: Approval, sequence: number): Promise<void> {
  if (approval.callback?.type !== 'stepfunctions' || !approval.callback.heartbeatSeconds) return;
  await enqueue(
    unit,
    'heartbeat',
    { approvalId: approval.id, sequence },
    {
      id: `msg_hb${idSuffix(approval)}_${sequence}`,
      dueAt: new Date(approval.createdAt.getTime() + sequence * approval.callback.heartbeatSeconds * 1000),
    },
  );
}

/**
 * Queues one timer of a waiting stage. A stage is reached once per approval, so its index,
 * the action and the sequence make a stable id: a retried step never queues a timer twice.
 */
export async function queueTimer(
  unit: UnitOfWork,
  approval: Approval,
  timer: TimerPayload,
  dueAt: Date,
): Promise<void> {
  const index = stageIndex(approval, timer.stage);
  if (index === -1 || dueAt >= approval.expiresAt) return;
  await enqueue(unit, 'timer', timer, {
    id: `msg_${timer.action[0]}${idSuffix(approval)}_${index}_${timer.sequence}`,
    dueAt,
  });
}

/** Queues the timeout, first reminder and escalation of a human stage that starts waiting now. */
async function queueStageTimers(unit: UnitOfWork, approval: Approval, stage: HumanStage): Promise<void> {
  const { now } = unit;
  const base = { approvalId: approval.id, stage: stage.name, sequence: 1, startedAt: now.toISOString() };
  const at = (ms: number) => new Date(now.getTime() + ms);
  if (stage.timeoutMs) await queueTimer(unit, approval, { ...base, action: 'timeout' }, at(stage.timeoutMs));
  if (stage.remindAfterMs)
    await queueTimer(unit, approval, { ...base, action: 'remind' }, at(stage.remindAfterMs));
  if (stage.escalateAfterMs && stage.escalateTo?.length)
    await queueTimer(unit, approval, { ...base, action: 'escalate' }, at(stage.escalateAfterMs));
}

/** Starts the stage that waits now: mails, Slack messages and timers for people, a review for an AI. */
export async function startStage(unit: UnitOfWork, approval: Approval): Promise<void> {
  const stage = currentStage(approval);
  if (stage?.type === 'human') {
    await queueStageNotifications(unit, approval);
    await queueSlackPosts(unit, approval);
    await queueStageTimers(unit, approval, stage);
  } else if (stage?.type === 'ai') {
    await enqueue(
      unit,
      'review',
      { approvalId: approval.id, stage: stage.name },
      { id: `msg_a${idSuffix(approval)}_${stageIndex(approval, stage.name)}` },
    );
  }
}

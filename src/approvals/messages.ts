import type { Approval, HumanStage, Stage } from '../core/model.js';
import { approversToNotify, currentStage } from '../core/stages.js';
import { approvalView } from '../core/view.js';
import type { Services } from '../services.js';
import type { Db } from '../store/database.js';
import { insertOutbox } from '../store/outbox.js';

export type WebhookEventType = 'approval.created' | 'approval.decided' | 'approval.stage_passed';

export interface EmailPayload {
  readonly approvalId: string;
  readonly stage: string;
  readonly approver: string;
  readonly renewed: boolean;
  /** A reminder to someone who has not decided yet. */
  readonly reminder?: boolean | undefined;
}

export interface WebhookPayload {
  readonly approvalId: string;
  readonly type: WebhookEventType;
  readonly timestamp: string;
  readonly data: ReturnType<typeof approvalView>;
}

/** Queues a mail with a fresh link for one approver of one stage. */
export async function queueEmail(
  tx: Db,
  services: Services,
  payload: EmailPayload,
  now: Date,
): Promise<void> {
  await insertOutbox(tx, {
    id: services.newId('msg'),
    approvalId: payload.approvalId,
    kind: 'email',
    payload: { ...payload },
    createdAt: now,
  });
}

/**
 * Queues mails for everyone the waiting stage needs who has not decided (or only for `only`),
 * if the approval asked for email; returns who will be mailed.
 */
export async function queueStageNotifications(
  tx: Db,
  services: Services,
  approval: Approval,
  now: Date,
  options: { reminder?: boolean; only?: ReadonlySet<string> } = {},
): Promise<string[]> {
  const stage = currentStage(approval);
  if (!stage || !approval.notify.includes('email')) return [];
  const people = approversToNotify(approval).filter((p) => !options.only || options.only.has(p));
  for (const approver of people)
    await queueEmail(
      tx,
      services,
      { approvalId: approval.id, stage: stage.name, approver, renewed: false, reminder: options.reminder },
      now,
    );
  return people;
}

/** Queues one event for the approval's webhook callback; the snapshot is taken now. */
export async function queueWebhookEvent(
  tx: Db,
  services: Services,
  approval: Approval,
  type: WebhookEventType,
  now: Date,
): Promise<void> {
  if (approval.callback?.type !== 'webhook') return;
  const payload: WebhookPayload = {
    approvalId: approval.id,
    type,
    timestamp: now.toISOString(),
    data: approvalView(approval),
  };
  await insertOutbox(tx, {
    id: services.newId('msg'),
    approvalId: approval.id,
    kind: 'webhook',
    payload: { ...payload },
    createdAt: now,
  });
}

/** What a workflow is told when its approval ends; the snapshot is taken at the decision. */
export interface ResumePayload {
  readonly approvalId: string;
  readonly data: ReturnType<typeof approvalView>;
}

/**
 * Queues the resumption of the waiting workflow for callbacks other than webhooks
 * (CodePipeline, Step Functions, CloudFormation); webhooks get `approval.decided` instead.
 */
export async function queueResume(tx: Db, services: Services, approval: Approval, now: Date): Promise<void> {
  if (!approval.callback || approval.callback.type === 'webhook') return;
  const payload: ResumePayload = { approvalId: approval.id, data: approvalView(approval) };
  await insertOutbox(tx, {
    id: services.newId('msg'),
    approvalId: approval.id,
    kind: 'resume',
    payload: { ...payload },
    createdAt: now,
  });
}

export interface HeartbeatPayload {
  readonly approvalId: string;
  readonly sequence: number;
}

/**
 * Queues heartbeat number `sequence` of a pending approval, due `sequence` intervals after
 * it was created (a fixed schedule, however late the previous one went out). The id comes
 * from the approval and the sequence, so a retried step never starts a second chain.
 */
export async function queueHeartbeat(tx: Db, approval: Approval, sequence: number, now: Date): Promise<void> {
  if (approval.callback?.type !== 'stepfunctions' || !approval.callback.heartbeatSeconds) return;
  const payload: HeartbeatPayload = { approvalId: approval.id, sequence };
  await insertOutbox(tx, {
    id: `msg_hb${approval.id.slice('apr_'.length)}_${sequence}`,
    approvalId: approval.id,
    kind: 'heartbeat',
    payload: { ...payload },
    createdAt: now,
    dueAt: new Date(approval.createdAt.getTime() + sequence * approval.callback.heartbeatSeconds * 1000),
  });
}

/** The id part of an approval id, for message ids derived from it. */
function idSuffix(approval: Approval): string {
  return approval.id.slice('apr_'.length);
}

function stageIndex(approval: Approval, stage: Stage): number {
  return approval.policy.stages.findIndex((s) => s.name === stage.name);
}

export type TimerAction = 'remind' | 'escalate' | 'timeout';

export interface TimerPayload {
  readonly approvalId: string;
  readonly stage: string;
  readonly action: TimerAction;
  /** Reminders are numbered from 1; each delivered one queues the next. */
  readonly sequence: number;
  /** When the stage started waiting (reminders are scheduled from it). */
  readonly startedAt: string;
}

/**
 * Queues one timer of a waiting stage. A stage is reached once per approval, so its index,
 * the action and the sequence make a stable id: a retried step never queues a timer twice.
 */
export async function queueTimer(
  tx: Db,
  approval: Approval,
  payload: TimerPayload,
  dueAt: Date,
  now: Date,
): Promise<void> {
  const stage = approval.policy.stages.find((s) => s.name === payload.stage);
  if (!stage || dueAt >= approval.expiresAt) return;
  const suffix = `${idSuffix(approval)}_${stageIndex(approval, stage)}`;
  await insertOutbox(tx, {
    id: `msg_${payload.action[0]}${suffix}_${payload.sequence}`,
    approvalId: approval.id,
    kind: 'timer',
    payload: { ...payload },
    createdAt: now,
    dueAt,
  });
}

/** Queues the timeout, first reminder and escalation of a human stage that starts waiting now. */
async function queueStageTimers(tx: Db, approval: Approval, stage: HumanStage, now: Date): Promise<void> {
  const base = { approvalId: approval.id, stage: stage.name, sequence: 1, startedAt: now.toISOString() };
  const at = (ms: number) => new Date(now.getTime() + ms);
  if (stage.timeoutMs)
    await queueTimer(tx, approval, { ...base, action: 'timeout' }, at(stage.timeoutMs), now);
  if (stage.remindAfterMs)
    await queueTimer(tx, approval, { ...base, action: 'remind' }, at(stage.remindAfterMs), now);
  if (stage.escalateAfterMs && stage.escalateTo?.length)
    await queueTimer(tx, approval, { ...base, action: 'escalate' }, at(stage.escalateAfterMs), now);
}

export interface ReviewPayload {
  readonly approvalId: string;
  readonly stage: string;
}

/** Starts the stage that waits now: mails and timers for people, a review for an AI. */
export async function startStage(tx: Db, services: Services, approval: Approval, now: Date): Promise<void> {
  const stage = currentStage(approval);
  if (stage?.type === 'human') {
    await queueStageNotifications(tx, services, approval, now);
    await queueStageTimers(tx, approval, stage, now);
  } else if (stage?.type === 'ai') {
    const payload: ReviewPayload = { approvalId: approval.id, stage: stage.name };
    await insertOutbox(tx, {
      id: `msg_a${idSuffix(approval)}_${stageIndex(approval, stage)}`,
      approvalId: approval.id,
      kind: 'review',
      payload: { ...payload },
      createdAt: now,
    });
  }
}

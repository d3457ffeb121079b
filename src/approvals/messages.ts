import { approversToNotify, currentStage } from '../core/approval.js';
import type { Approval } from '../core/model.js';
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

/** Queues mails for everyone the waiting stage needs, if the approval asked for email. */
export async function queueStageNotifications(tx: Db, services: Services, approval: Approval, now: Date) {
  if (!approval.notify.includes('email')) return;
  const stage = currentStage(approval);
  if (!stage) return;
  for (const approver of approversToNotify(approval)) {
    await queueEmail(
      tx,
      services,
      { approvalId: approval.id, stage: stage.name, approver, renewed: false },
      now,
    );
  }
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

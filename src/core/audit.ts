/** Every kind of event on an approval's audit trail. */
export type AuditType =
  | 'approval.created'
  | 'approval.decision'
  | 'approval.approved'
  | 'approval.rejected'
  | 'approval.expired'
  | 'approval.cancelled'
  | 'approval.break_glass'
  | 'break_glass.reviewed'
  | 'approval.escalated'
  | 'approval.reminded'
  | 'stage.result'
  | 'grant.created'
  | 'grant.used'
  | 'grant.revoked'
  | 'link.opened'
  | 'link.renewed'
  | 'notification.sent'
  | 'notification.failed'
  | 'notification.dead_lettered'
  | 'callback.delivered'
  | 'callback.failed'
  | 'callback.dead_lettered';

/** One event of an approval's audit trail, as stored and shown. */
export interface AuditEvent {
  readonly id: string;
  readonly approvalId: string;
  readonly type: string;
  readonly actor: string | null;
  readonly data: Record<string, unknown>;
  readonly at: Date;
}

/** One event to append: what happened, who did it (null for signoff itself) and its details. */
export interface AuditEntry {
  readonly type: AuditType;
  readonly actor: string | null;
  readonly data: Record<string, unknown>;
}

/** The audit events a delivery of one outbox kind writes when it succeeds, fails, or is given up. */
export interface DeliveryEvents {
  readonly delivered: AuditType;
  readonly failed: AuditType;
  readonly dead: AuditType;
}

/** Mails (and other messages to people). */
export const NOTIFICATION_EVENTS: DeliveryEvents = {
  delivered: 'notification.sent',
  failed: 'notification.failed',
  dead: 'notification.dead_lettered',
};

/** Calls that tell or resume the waiting workflow. */
export const CALLBACK_EVENTS: DeliveryEvents = {
  delivered: 'callback.delivered',
  failed: 'callback.failed',
  dead: 'callback.dead_lettered',
};

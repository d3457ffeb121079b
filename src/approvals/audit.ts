import type { Services } from '../services.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/database.js';

export type AuditType =
  | 'approval.created'
  | 'approval.decision'
  | 'approval.approved'
  | 'approval.rejected'
  | 'approval.expired'
  | 'approval.cancelled'
  | 'approval.escalated'
  | 'approval.reminded'
  | 'stage.result'
  | 'link.opened'
  | 'link.renewed'
  | 'notification.sent'
  | 'notification.failed'
  | 'notification.dead_lettered'
  | 'callback.delivered'
  | 'callback.failed'
  | 'callback.dead_lettered';

/** Appends one audit event for an approval. */
export async function audit(
  db: Db,
  services: Services,
  approvalId: string,
  type: AuditType,
  actor: string | null,
  data: Record<string, unknown>,
  now: Date,
): Promise<void> {
  await appendAudit(db, { id: services.newId('evt'), approvalId, type, actor, data, at: now });
}

import type { Db } from './database.js';

export interface AuditEvent {
  readonly id: string;
  readonly approvalId: string;
  readonly type: string;
  readonly actor: string | null;
  readonly data: Record<string, unknown>;
  readonly at: Date;
}

/** Appends one event to the audit trail. Nothing ever updates or deletes these rows. */
export async function appendAudit(db: Db, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      id: event.id,
      approval_id: event.approvalId,
      type: event.type,
      actor: event.actor,
      data: JSON.stringify(event.data),
      at: event.at.getTime(),
    })
    .execute();
}

/** An approval's audit trail in the order it was written. */
export async function listAudit(db: Db, approvalId: string): Promise<AuditEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('approval_id', '=', approvalId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    approvalId: r.approval_id,
    type: r.type,
    actor: r.actor,
    data: JSON.parse(r.data) as Record<string, unknown>,
    at: new Date(Number(r.at)),
  }));
}

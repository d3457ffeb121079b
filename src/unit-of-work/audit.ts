import type { AuditEntry } from '../core/audit.js';
import { appendAudit } from '../store/audit.js';
import type { UnitOfWork } from './context.js';

/** Appends one event to an approval's audit trail, in the unit's transaction and at its instant. */
export async function audit(unit: UnitOfWork, approvalId: string, entry: AuditEntry): Promise<void> {
  await appendAudit(unit.db, { id: unit.newId('evt'), approvalId, ...entry, at: unit.now });
}

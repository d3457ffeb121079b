import type { AuditEntry } from '../core/audit.js';
import { appendAudit, findChainEnd, lockChain } from '../store/audit.js';
import type { UnitOfWork } from './context.js';

/**
 * Appends one event to an approval's audit trail, in the unit's transaction and at its instant,
 * chained onto the approval's last event (the approval's row is held so no other writer links
 * to the same one).
 */
export async function audit(unit: UnitOfWork, approvalId: string, entry: AuditEntry): Promise<void> {
  await lockChain(unit.db, approvalId);
  const end = await findChainEnd(unit.db, approvalId);
  await appendAudit(unit.db, { id: unit.newId('evt'), approvalId, ...entry, at: unit.now }, end);
}

import type { AuditEntry } from '../core/audit.js';
import { appendAudit, findChainEnd, lockChain } from '../store/audit.js';
import type { UnitOfWork } from './context.js';

/**
 * Appends one event to an approval's audit trail, in the unit's transaction and at its instant,
 * chained onto the approval's last event (the approval's row is held so no other writer links
 * to the same one).
 */
export async function audit(unit: UnitOfWork, approvalId: string, entry: AuditEntry): Promise<void> {
  // The unit holds the row and knows the end from its first append on: a decision that ends
  // an approval writes several events, and only the first asks the database.
  let end = unit.chainEnds.get(approvalId);
  if (!end) {
    await lockChain(unit.db, approvalId);
    end = await findChainEnd(unit.db, approvalId);
  }
  const event = { id: unit.newId('evt'), approvalId, ...entry, at: unit.now };
  unit.chainEnds.set(approvalId, await appendAudit(unit.db, event, end));
}

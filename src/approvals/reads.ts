// Reads the pages need that no credential scopes: a decision link or a signed-in person has
// already been checked against the approval by the caller's own rule.
import type { AuditEvent } from '../core/audit.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import { listAudit } from '../store/audit.js';

/** An approval by id, or undefined. */
export function findApprovalById(services: Services, id: string): Promise<Approval | undefined> {
  return findApproval(services.db, id);
}

/** An approval's audit trail, oldest first: the timeline a page shows. */
export function timelineOf(services: Services, id: string): Promise<AuditEvent[]> {
  return listAudit(services.db, id);
}

/** What a page shows beside an approval: its trail, the time, and the waits held on it here. */
export async function pageContextOf(
  services: Services,
  id: string,
): Promise<{ events: AuditEvent[]; now: Date; polling: number }> {
  return { events: await listAudit(services.db, id), now: services.now(), polling: services.waits.count(id) };
}

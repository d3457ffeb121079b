import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import type { Db } from '../store/database.js';

/** Thrown inside a transaction when another writer changed the approval first. */
export class VersionConflict extends Error {
  constructor() {
    super('The approval changed while it was being updated.');
    this.name = new.target.name;
  }
}

const MAX_ATTEMPTS = 8;

/**
 * Runs `work` on a freshly read approval inside one transaction; if another writer got
 * there first (version conflict), reads again and retries. After a commit that changed
 * something, waiters are woken and the dispatcher nudged.
 */
export async function withApproval<T>(
  services: Services,
  id: string,
  work: (tx: Db, approval: Approval) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await services.db.transaction().execute(async (tx) => {
        const approval = await findApproval(tx, id);
        if (!approval) throw new SignoffError('not_found', `No approval ${id}.`);
        return work(tx, approval);
      });
      services.changes.publish(id);
      services.wakeDispatcher();
      return result;
    } catch (error) {
      if (!(error instanceof VersionConflict) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

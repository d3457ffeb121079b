import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import { runUnitOfWork, type UnitOfWork } from '../unit-of-work/context.js';

/** Thrown inside a transaction when another writer changed the approval first. */
export class VersionConflict extends Error {
  constructor() {
    super('The approval changed while it was being updated.');
    this.name = new.target.name;
  }
}

const MAX_ATTEMPTS = 8;

/**
 * Runs a unit of work again from the start while it loses a race, `attempts` times at most
 * (8 unless told). A version conflict is a lost race; `lost` may name others, such as a
 * unique key another writer took first.
 */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  options: { readonly lost?: (error: unknown) => boolean; readonly attempts?: number } = {},
): Promise<T> {
  const { lost = () => false, attempts = MAX_ATTEMPTS } = options;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const raced = error instanceof VersionConflict || lost(error);
      if (!raced || tries >= attempts) throw error;
    }
  }
}

/**
 * Runs `work` on a freshly read approval inside one unit of work; if another writer got
 * there first (version conflict), reads again and retries.
 */
export async function withApproval<T>(
  services: Services,
  id: string,
  work: (unit: UnitOfWork, approval: Approval) => Promise<T>,
): Promise<T> {
  return retryOnConflict(() =>
    runUnitOfWork(services, async (unit) => {
      const approval = await findApproval(unit.db, id);
      if (!approval) throw new SignoffError('not_found', `No approval ${id}.`);
      return work(unit, approval);
    }),
  );
}

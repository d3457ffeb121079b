import type { Config } from '../config.js';
import type { NewId } from '../ids.js';
import type { Observation } from '../observer.js';
import type { Services } from '../services.js';
import type { ChainEnd } from '../store/audit.js';
import { type Db, isPostgres } from '../store/database.js';
import { commitGroupOf } from './commit-group.js';

/**
 * What every write needs, travelling as one value: the transaction, one instant for the
 * whole change, ids, settings, and effects that must wait until the commit.
 */
export interface UnitOfWork {
  /** The open transaction. */
  readonly db: Db;
  readonly now: Date;
  readonly newId: NewId;
  readonly config: Config;
  /** Deferred until the transaction commits; dropped if it rolls back. */
  readonly afterCommit: AfterCommit;
  /**
   * The end of each audit chain this unit appended to: the unit holds the chain's lock from
   * its first append on, so no other writer can have moved it.
   */
  readonly chainEnds: Map<string, ChainEnd>;
}

/** Effects a unit of work asks for; each runs at most once, after the commit. */
export interface AfterCommit {
  /** Nudge the outbox dispatcher: a message is due now. */
  wakeDispatcher(): void;
  /** Wake the waiters of an approval that changed. */
  publishChange(approvalId: string): void;
  /** Count something that happened, once it has really happened (metrics). */
  observe(observation: Observation): void;
}

/**
 * Runs `work` in one transaction and, once it has committed, the effects it asked for.
 * `now` is the clock's unless the caller already fixed the instant of the change.
 */
export async function runUnitOfWork<T>(
  services: Services,
  work: (unit: UnitOfWork) => Promise<T>,
  options: { now?: Date } = {},
): Promise<T> {
  const now = options.now ?? services.now();
  let wake = false;
  const changed = new Set<string>();
  const observed: Observation[] = [];
  const afterCommit: AfterCommit = {
    wakeDispatcher: () => {
      wake = true;
    },
    publishChange: (approvalId) => {
      changed.add(approvalId);
    },
    observe: (observation) => {
      observed.push(observation);
    },
  };
  const unitOn = (db: Db) =>
    work({ db, now, newId: services.newId, config: services.config, afterCommit, chainEnds: new Map() });
  const result = isPostgres(services.db)
    ? await services.db.transaction().execute(unitOn)
    : await commitGroupOf(services.db).run(unitOn);
  for (const approvalId of changed) services.changes.publish(approvalId);
  if (wake) services.wakeDispatcher();
  for (const observation of observed) services.observer.observe(observation);
  return result;
}

import { sql } from 'kysely';
import type { Db } from '../store/database.js';

/**
 * Units of work on SQLite that share one commit. SQLite has one writer and better-sqlite3
 * answers at once, so a unit runs from its first statement to its commit without yielding
 * to the event loop, and the commit (the pages it wrote, appended to the WAL) costs more than
 * the unit's statements. A group takes the units that arrived in one turn of the event loop
 * (the requests read in the same poll), and at the end of that turn runs them one after
 * another, each in its own savepoint, and commits them once. Nobody waits on a timer: a lone
 * unit starts as soon as the turn it arrived in is over. Like a single unit before, a group
 * runs from its first statement to its commit without yielding to the event loop, so it holds
 * SQLite's write lock no longer than its statements take.
 *
 * What each unit sees and what it is told do not change:
 * - a unit's answer (and its effects after the commit) waits for the commit of its group;
 * - a unit that fails is rolled back to its savepoint alone, and the others commit;
 * - a failed commit fails every unit of the group, none of which was answered;
 * - the group holds the only connection from its first unit to its commit, so nothing
 *   outside it ever reads what it has not committed.
 */
export interface CommitGroup {
  run<T>(work: (db: Db) => Promise<T>): Promise<T>;
}

interface Queued {
  readonly work: (db: Db) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** A unit that ran, with what it returned: answered once its group has committed. */
interface Done {
  readonly unit: Queued;
  readonly value: unknown;
}

/** The units one group has started, and those that ran to their end. */
interface Group {
  started: number;
  readonly done: Done[];
}

/** A group's size is bounded, so reads waiting for the connection are not held back long. */
const MAX_UNITS = 64;

const groups = new WeakMap<Db, CommitGroup>();

/** The commit group of a SQLite database (one per database handle). */
export function commitGroupOf(db: Db): CommitGroup {
  let group = groups.get(db);
  if (!group) {
    group = createCommitGroup(db);
    groups.set(db, group);
  }
  return group;
}

export function createCommitGroup(db: Db, observeSize?: (units: number) => void): CommitGroup {
  const queue: Queued[] = [];
  let scheduled = false;

  /** Runs one unit in its own savepoint; one that fails is rolled back alone and told at once. */
  async function runOne(connection: Db, unit: Queued, done: Done[]): Promise<void> {
    await sql`savepoint unit`.execute(connection);
    try {
      done.push({ unit, value: await unit.work(connection) });
      await sql`release unit`.execute(connection);
    } catch (error) {
      unit.reject(error);
      // An error that ended the whole transaction (SQLite rolls back by itself on some,
      // such as a full disk) leaves no savepoint, and the group fails as one.
      await sql`rollback to unit`.execute(connection);
      await sql`release unit`.execute(connection);
    }
  }

  /** Runs the units queued now (at most MAX_UNITS) in one transaction; throws if it failed. */
  async function runAndCommit(group: Group): Promise<void> {
    await db.connection().execute(async (connection) => {
      await sql`begin`.execute(connection);
      try {
        while (group.started < MAX_UNITS && queue.length > 0) {
          group.started++;
          await runOne(connection, queue.shift() as Queued, group.done);
        }
        await sql`commit`.execute(connection);
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
    });
  }

  /** One group: its units run and are committed once, then each is answered. */
  async function runGroup(): Promise<void> {
    scheduled = false;
    // A unit retried within a group may have scheduled this one and run in that group instead.
    if (queue.length === 0) return;
    const group: Group = { started: 0, done: [] };
    const failed = await runAndCommit(group).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    // A group that could not even begin (the database is closed or unreachable) fails those
    // waiting too; otherwise they run in the next group.
    const waiting = failed && group.started === 0 ? queue.splice(0) : [];
    if (queue.length > 0) schedule();
    if (!failed) observeSize?.(group.started);
    for (const { unit, value } of group.done) failed ? unit.reject(failed.error) : unit.resolve(value);
    for (const unit of waiting) unit.reject(failed?.error);
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void runGroup());
  }

  return {
    run<T>(work: (db: Db) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
  };
}

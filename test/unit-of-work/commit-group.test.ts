import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/store/database.js';
import { type CommitGroup, createCommitGroup } from '../../src/unit-of-work/commit-group.js';

let dir: string;
let db: Db;
let group: CommitGroup;
let sizes: number[];
/** A second connection to the same file: it sees only what was committed. */
let other: SQLite.Database;

const rows = (trx: Db) => trx as unknown as Kysely<{ notes: { n: number } }>;
const insert = (n: number) => (trx: Db) =>
  rows(trx)
    .insertInto('notes')
    .values({ n })
    .execute()
    .then(() => n);
const committed = () =>
  (other.prepare('select n from notes order by n').all() as { n: number }[]).map((r) => r.n);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-group-'));
  db = openDatabase({ url: `sqlite:${join(dir, 'group.db')}` });
  await sql`create table notes (n integer primary key)`.execute(db);
  sizes = [];
  group = createCommitGroup(db, (units) => sizes.push(units));
  other = new SQLite(join(dir, 'group.db'));
});
afterEach(async () => {
  other.close();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('units of work sharing a commit (SQLite)', () => {
  it('commits the units that arrive in one turn once, and answers each only after that commit', async () => {
    const seenWhenAnswered: number[][] = [];
    const answers = [1, 2, 3, 4, 5].map((n) =>
      group.run(insert(n)).then((value) => {
        seenWhenAnswered.push(committed());
        return value;
      }),
    );
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([5]);
    for (const seen of seenWhenAnswered) expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps a read that arrives while a group runs waiting until the group has committed', async () => {
    let read: Promise<{ n: number }[]> | undefined;
    const unit = group.run(async (trx) => {
      await insert(1)(trx);
      // Another request's read, arriving while the group holds the connection.
      read = rows(db).selectFrom('notes').select('n').execute();
      return 1;
    });
    expect(await unit).toBe(1);
    expect(await read).toEqual([{ n: 1 }]);
  });

  it('rolls a unit that fails back alone: the others of its group commit', async () => {
    const failing = group.run(async (trx) => {
      await insert(2)(trx);
      throw new Error('the second unit fails');
    });
    const answers = Promise.all([group.run(insert(1)), group.run(insert(3))]);
    await expect(failing).rejects.toThrow('the second unit fails');
    expect(await answers).toEqual([1, 3]);
    expect(committed()).toEqual([1, 3]);
  });

  it('fails the units of a group whose transaction ended under it, and runs those not started in the next', async () => {
    const first = group.run(insert(1));
    // What SQLite does by itself on some errors (a full disk): the whole transaction is gone.
    const ending = group.run(async (trx) => {
      await sql`rollback`.execute(trx);
      throw new Error('the transaction ended');
    });
    await expect(ending).rejects.toThrow('the transaction ended');
    await expect(first).rejects.toThrow();
    expect(await group.run(insert(3))).toBe(3);
    expect(committed()).toEqual([3]);
  });

  it('fails the waiting units at once when the database cannot be reached', async () => {
    await db.destroy();
    await expect(group.run(insert(1))).rejects.toThrow();
  });
});

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/store/database.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from '../../src/store/sqlite-checkpoints.js';
import { eventually } from '../helpers/receiver.js';

const PAGE = 4096;
// Fewer pages than SQLite's own threshold (1,000): no commit ever checkpoints these by itself.
const PAGES_WRITTEN = 400;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-checkpoints-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function writePages(db: Db): Promise<void> {
  await sql`create table filler (body blob not null)`.execute(db);
  for (let i = 0; i < PAGES_WRITTEN / 10; i++)
    await db.transaction().execute(async (trx) => {
      for (let j = 0; j < 10; j++)
        await sql`insert into filler (body) values (zeroblob(${PAGE}))`.execute(trx);
    });
}

describe('background WAL checkpoints (SQLite)', () => {
  it('copy committed pages into the database file without any commit doing it', async () => {
    const file = join(dir, 'signoff.db');
    const db = openDatabase({ url: `sqlite:${file}`, checkpointInBackground: true });
    try {
      // Commits leave checkpoints to the thread once it has the database open, and only then.
      await eventually(async () => {
        const [row] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db)).rows;
        expect(row?.wal_autocheckpoint).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);
      });
      await writePages(db);
      await eventually(() => expect(statSync(file).size).toBeGreaterThanOrEqual(PAGES_WRITTEN * PAGE));
    } finally {
      await db.destroy();
    }
  });

  it('leave the pages in the WAL when not asked for (the control: the check above can fail)', async () => {
    const file = join(dir, 'signoff.db');
    const db = openDatabase({ url: `sqlite:${file}` });
    try {
      await writePages(db);
      expect(statSync(file).size).toBeLessThan(PAGES_WRITTEN * PAGE);
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(PAGES_WRITTEN * PAGE);
    } finally {
      await db.destroy();
    }
  });

  it('tell of a database they cannot open, never say they are ready, and stop when asked', async () => {
    // A directory is no database.
    let told: (message: string) => void = () => {};
    const message = new Promise<string>((resolve) => {
      told = resolve;
    });
    let ready = false;
    const checkpointer = startCheckpointer(dir, {
      onReady: () => {
        ready = true;
      },
      onError: (text) => told(text),
    });
    expect(await message).toMatch(/\S/);
    await checkpointer.stop();
    expect(ready).toBe(false);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { createTestDatabase, POSTGRES_URL } from '../helpers/database.js';

// PostgreSQL only (vitest.config.ts): SQLite has no connection to lose. What a database
// restart does to a connection a request holds, done to one connection.
describe('a PostgreSQL connection lost while a transaction holds it', () => {
  it('fails that transaction, not the process, is reported once, and the pool goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-connection-loss-'));
    const database = await createTestDatabase(dir);
    const reported: Error[] = [];
    let heard: () => void = () => {};
    const heardOfLoss = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const db = openDatabase({
      url: database.env.SIGNOFF_DATABASE_URL as string,
      schema: database.env.SIGNOFF_DATABASE_SCHEMA,
      poolSize: 2,
      onBackgroundError: (error) => {
        reported.push(error);
        heard();
      },
    });
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const transaction = db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        // Ended between two statements: no statement is running to receive the error.
        await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
        await heardOfLoss;
        await sql`select 1`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
      expect(reported).toHaveLength(1);
      const after = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(after.rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await db.destroy();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Which backend this test run uses; the PostgreSQL project of vitest.config.ts sets it. */
export const BACKEND = process.env.SIGNOFF_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const POSTGRES_URL =
  process.env.SIGNOFF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** Environment variables that point signoff at this database. */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * A fresh database for one suite: a SQLite file in `dir`, or a new schema in the test
 * PostgreSQL database, dropped afterwards.
 */
export async function createTestDatabase(dir: string): Promise<TestDatabase> {
  if (BACKEND === 'sqlite') {
    return { env: { SIGNOFF_DATABASE_URL: `sqlite:${dir}/signoff.db` }, drop: async () => {} };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    env: {
      SIGNOFF_DATABASE_URL: POSTGRES_URL,
      SIGNOFF_DATABASE_SCHEMA: schema,
      SIGNOFF_DATABASE_POOL_SIZE: '4',
    },
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Which backend this test run uses; the PostgreSQL project of vitest.config.ts sets it. */
export const BACKEND = process.env.SIGNOFF_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const POSTGRES_URL =
  process.env.SIGNOFF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Set by test/global-setup.ts: the id of this `vitest run`, which drops its schemas at its end. */
const RUN = process.env.SIGNOFF_TEST_RUN;

/** The prefix of every PostgreSQL schema one run creates. */
export function runSchemaPrefix(run: string): string {
  return `t_${run}_`;
}

export interface TestDatabase {
  /** Environment variables that point signoff at this database. */
  readonly env: Record<string, string>;
  drop(): Promise<void>;
}

/** Drops schemas in the test PostgreSQL database. */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(
      `drop schema if exists ${schemas.map((s) => client.escapeIdentifier(s)).join(', ')} cascade`,
    );
  } finally {
    await client.end();
  }
}

/**
 * A fresh database for one suite: a SQLite file in `dir`, or a new schema in the test
 * PostgreSQL database. Within a run the schema outlives the suite: dropping a schema while
 * another suite migrates fails that migration (Kysely's migrator reads every schema in the
 * database and stumbles on one that disappears under it), so the run drops them all at its end.
 */
export async function createTestDatabase(dir: string): Promise<TestDatabase> {
  if (BACKEND === 'sqlite') {
    return { env: { SIGNOFF_DATABASE_URL: `sqlite:${dir}/signoff.db` }, drop: async () => {} };
  }
  const schema = `${RUN ? runSchemaPrefix(RUN) : 't_'}${randomBytes(6).toString('hex')}`;
  return {
    env: {
      SIGNOFF_DATABASE_URL: POSTGRES_URL,
      SIGNOFF_DATABASE_SCHEMA: schema,
      SIGNOFF_DATABASE_POOL_SIZE: '4',
    },
    drop: async () => {
      if (!RUN) await dropSchemas([schema]);
    },
  };
}

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { SignoffError } from '../core/errors.js';
import { KNOWN_MIGRATIONS, migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  readonly url: string;
  /** PostgreSQL schema holding signoff's tables (several deployments can share a database). */
  readonly schema?: string | undefined;
  readonly poolSize?: number | undefined;
  readonly statementTimeoutMs?: number | undefined;
  /** Told about errors of idle pooled connections, which would otherwise crash the process. */
  readonly onPoolError?: ((error: Error) => void) | undefined;
}

const INT8_OID = 20;

/** Opens the database named by `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. */
export function openDatabase(options: DatabaseOptions): Db {
  const { url } = options;
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(options);
  throw new SignoffError(
    'invalid_input',
    `Unsupported SIGNOFF_DATABASE_URL "${redactUrl(url)}": use sqlite:PATH or postgres://USER@HOST:PORT/DB.`,
  );
}

function openSqlite(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

function openPostgres(options: DatabaseOptions): Db {
  const schema = options.schema ?? 'public';
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    options: `-c search_path=${schema}`,
    // Times are stored as bigint epoch milliseconds; read them back as numbers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
    },
  });
  pool.on('error', (error) => options.onPoolError?.(error));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Whether the database is PostgreSQL (some statements differ, e.g. SKIP LOCKED claims). */
export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Applies every migration not yet applied. Refuses a database that a newer signoff
 * migrated: running old code on a newer schema could corrupt it.
 */
export async function migrate(db: Db, schema?: string): Promise<string[]> {
  try {
    if (isPostgres(db) && schema && schema !== 'public') {
      // Instances starting together race here; the loser's "already exists" is fine.
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db).catch((error: unknown) => {
        if (!isUniqueViolation(error) && (error as { code?: string }).code !== '42P06') throw error;
      });
    }
    const applied = await listAppliedMigrations(db);
    const unknown = applied.filter((name) => !KNOWN_MIGRATIONS.includes(name));
    if (unknown.length > 0)
      throw new SignoffError(
        'schema_too_new',
        `The database schema is newer than this signoff (it has migration ${unknown.join(', ')}). Upgrade signoff.`,
      );
  } catch (error) {
    if (error instanceof SignoffError) throw error;
    throw new SignoffError('database_unavailable', `Cannot reach the database: ${describe(error)}`, {
      cause: error,
    });
  }
  // Name the schema: otherwise Kysely finds another schema's migration table and skips creating its own.
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    ...(isPostgres(db) && schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error)
    throw new SignoffError('internal', `Database migration failed: ${describe(error)}`, { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function listAppliedMigrations(db: Db): Promise<string[]> {
  // Look only where signoff's own tables live: the search_path schema, or the SQLite file.
  const exists = isPostgres(db)
    ? await sql<{ found: string | null }>`select to_regclass('kysely_migration')::text as found`.execute(db)
    : await sql<{
        found: string;
      }>`select name as found from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(
        db,
      );
  if (!exists.rows[0]?.found) return [];
  const result = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  return result.rows.map((r) => r.name);
}

function describe(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(describe).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Whether a database error is a unique-constraint violation, in either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Hides a password in a database URL before it is shown anywhere. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

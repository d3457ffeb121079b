import { mkdirSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { SignoffError } from '../core/errors.js';
import { PreparedStatementsDialect } from './prepared-statements.js';
import type { Database } from './schema.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from './sqlite-checkpoints.js';
import { cacheStatements } from './sqlite-statements.js';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  readonly url: string;
  /** PostgreSQL schema holding signoff's tables (several deployments can share a database). */
  readonly schema?: string | undefined;
  readonly poolSize?: number | undefined;
  readonly statementTimeoutMs?: number | undefined;
  /**
   * Told about errors no request sees: of idle pooled connections (which would otherwise crash
   * the process), of background checkpoints, and a refused prepared statement.
   */
  readonly onBackgroundError?: ((error: Error) => void) | undefined;
  /** PostgreSQL: keep the statements of hot paths prepared on each connection (default on). */
  readonly preparedStatements?: boolean | undefined;
  /** SQLite: checkpoint the WAL from a background thread (a long-running server wants this). */
  readonly checkpointInBackground?: boolean | undefined;
}

const INT8_OID = 20;
/** SQLite's page cache, in KiB. */
const SQLITE_CACHE_KIB = 32 * 1024;

/** Opens the database named by `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. */
export function openDatabase(options: DatabaseOptions): Db {
  const { url } = options;
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), options);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(options);
  throw new SignoffError(
    'invalid_input',
    `Unsupported SIGNOFF_DATABASE_URL "${redactUrl(url)}": use sqlite:PATH or postgres://USER@HOST:PORT/DB.`,
  );
}

/** A SQLite path that cannot work, in the terms of the setting that named it. */
function sqlitePathProblem(path: string, problem: string, cause?: unknown): SignoffError {
  return new SignoffError('invalid_input', `SIGNOFF_DATABASE_URL=sqlite:${path}: ${problem}`, { cause });
}

/** The directory's status; undefined where nothing (or a file's non-existent child) is. */
function statDirectory(dir: string, path: string): Stats | undefined {
  try {
    return statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw sqlitePathProblem(path, `cannot look at ${dir} (${code})`, error);
  }
}

/**
 * Creates the directory an SQLite file goes in, one level at a time. Node's recursive mkdir
 * spins forever where a parent exists but cannot hold the child (a path under /proc, a
 * dangling symlink): it reads ENOENT as "make the parent first", and the parent is there.
 */
function makeSqliteDirectory(path: string): void {
  const missing: string[] = [];
  let dir = dirname(resolve(path));
  for (;;) {
    const found = statDirectory(dir, path);
    if (found?.isDirectory()) break;
    if (found)
      throw sqlitePathProblem(path, `${dir} is a file, not a directory; use a path in a writable directory`);
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Made meanwhile by another start (fine), or a symlink that points nowhere (not fine).
      if (code === 'EEXIST' && statDirectory(level, path)?.isDirectory()) continue;
      if (code === 'EEXIST')
        throw sqlitePathProblem(path, `${level} exists but is not a directory (a symlink to nowhere?)`);
      throw sqlitePathProblem(
        path,
        `the directory ${level} cannot be created (${code}); use a path in a writable directory`,
        error,
      );
    }
  }
}

function openSqlite(path: string, options: DatabaseOptions): Db {
  const inFile = path !== ':memory:';
  if (inFile) makeSqliteDirectory(path);
  let sqlite: SQLite.Database;
  try {
    sqlite = new SQLite(path);
  } catch (error) {
    throw sqlitePathProblem(path, `SQLite cannot open it (${(error as Error).message})`, error);
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // The upper levels of every index stay in memory however many approvals there are (SQLite's
  // default keeps 2 MB; an index of ten million links alone has more inner pages than that).
  sqlite.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  const checkpointer =
    inFile && options.checkpointInBackground
      ? startCheckpointer(path, {
          // Commits keep checkpointing as SQLite does until the thread really does it.
          onReady: () => {
            if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
          },
          onError: (message) => options.onBackgroundError?.(new Error(`WAL checkpoint: ${message}`)),
        })
      : undefined;
  const statements = cacheStatements(sqlite);
  const database = {
    prepare: statements.prepare,
    close() {
      // The thread closes its own connection; the last connection to close tidies the WAL.
      void checkpointer?.stop();
      statements.close();
    },
  };
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
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
  // pg emits 'error' on a client whose connection ends (the server restarts, the network
  // drops). The pool listens only while the client is idle; while a request holds it nobody
  // would, and an 'error' without a listener ends the process: a database restart would crash
  // every instance that had a connection checked out. So each client has a listener for its
  // whole life; the request holding it fails with its statement (or its next one), and the pool
  // drops the connection when it comes back. One report per connection.
  const reported = new WeakSet<object>();
  const report = (client: object, error: Error) => {
    if (reported.has(client)) return;
    reported.add(client);
    options.onBackgroundError?.(error);
  };
  pool.on('connect', (client) => client.on('error', (error) => report(client, error)));
  pool.on('error', (error, client) => report(client, error));
  if (!(options.preparedStatements ?? true))
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const dialect = new PreparedStatementsDialect(pool, { on: true }, (error) =>
    options.onBackgroundError?.(
      new Error(
        `PostgreSQL refused a prepared statement (${describeError(error)}); signoff runs its statements unprepared from now on. Behind a pooler in transaction mode, set SIGNOFF_DATABASE_PREPARED_STATEMENTS=off.`,
        { cause: error },
      ),
    ),
  );
  return new Kysely<Database>({ dialect });
}

/** Whether the database is PostgreSQL (some statements differ, e.g. SKIP LOCKED claims). */
export function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** A database error in one line, every cause of an aggregate named. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(describeError).join('; ');
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

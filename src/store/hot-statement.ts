import { CompiledQuery, type QueryResult } from 'kysely';
import { type Db, isPostgres } from './database.js';
import { keepPrepared } from './prepared-statements.js';

/** SQL written once per dialect, with `?` for each parameter in order. */
export type DialectSql = string | { readonly sqlite: string; readonly postgres: string };

/** PostgreSQL numbers its parameters: `?` becomes `$1`, `$2`, … in order. */
function numberParameters(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * A statement of a hot path (every request runs it), written in SQL and run as written.
 * Building and compiling a Kysely query costs several microseconds, more than an indexed read
 * on SQLite; the text is fixed, so SQLite prepares it once and each PostgreSQL connection
 * keeps it prepared (its columns are named for that: see `keepPrepared`).
 * Rows come back as the database gives them: the caller names their type.
 */
export function hotStatement<Row>(
  text: DialectSql,
): (db: Db, parameters: readonly unknown[]) => Promise<QueryResult<Row>> {
  const sqlite = typeof text === 'string' ? text : text.sqlite;
  const postgres = numberParameters(typeof text === 'string' ? text : text.postgres);
  keepPrepared(postgres);
  return (db, parameters) =>
    db.executeQuery<Row>(CompiledQuery.raw(isPostgres(db) ? postgres : sqlite, [...parameters]));
}

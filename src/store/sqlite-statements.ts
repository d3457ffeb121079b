import type Sqlite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LRUCache } from 'lru-cache';

/** Distinct statements signoff runs are a few dozen; the bound only guards against odd SQL. */
const MAX_STATEMENTS = 500;

/**
 * better-sqlite3 behind Kysely's SQLite dialect, preparing each distinct SQL text once.
 * Kysely prepares a statement for every query, and preparing costs more than running an
 * indexed read; a prepared statement is reusable, and Kysely's one connection runs one query
 * at a time, so no statement is ever busy when it is taken from the cache. SQLite
 * re-prepares a statement by itself when a migration changes the schema under it.
 */
export function cacheStatements(database: Sqlite.Database, max = MAX_STATEMENTS): SqliteDatabase {
  const statements = new LRUCache<string, SqliteStatement>({ max });
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      database.close();
    },
  };
}

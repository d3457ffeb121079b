import { duration, type Env, identifier, integer, onOff } from './read.js';

/** Where signoff keeps its state, and how it talks to the database. */
export interface DatabaseConfig {
  readonly databaseUrl: string;
  /** PostgreSQL schema for signoff's tables. */
  readonly databaseSchema: string;
  readonly databasePoolSize: number;
  readonly databaseStatementTimeoutMs: number;
  /**
   * PostgreSQL keeps the statements of hot paths prepared per connection (on by default);
   * off for a pooler that cannot carry them, such as PgBouncer in transaction mode without
   * max_prepared_statements (1.21 and later can carry them).
   */
  readonly databasePreparedStatements: boolean;
}

/** The database's settings. */
export function readDatabaseConfig(env: Env): DatabaseConfig {
  return {
    databaseUrl: env.SIGNOFF_DATABASE_URL || 'sqlite:./data/signoff.db',
    databaseSchema: identifier(env, 'SIGNOFF_DATABASE_SCHEMA', 'public'),
    databasePoolSize: integer(env, 'SIGNOFF_DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseStatementTimeoutMs: duration(env, 'SIGNOFF_DATABASE_STATEMENT_TIMEOUT', '30s'),
    databasePreparedStatements: onOff(env, 'SIGNOFF_DATABASE_PREPARED_STATEMENTS', true),
  };
}

import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';

/** SQL text → the name PostgreSQL keeps it prepared under, on every connection that ran it. */
const names = new Map<string, string>();

/**
 * Marks SQL as worth keeping prepared on PostgreSQL: each pooled connection parses and plans
 * it once, then only binds values. Only fixed texts of hot paths belong here, with their
 * columns named (a prepared `select *` fails once a newer signoff adds a column).
 */
export function keepPrepared(text: string): void {
  if (!names.has(text)) names.set(text, `signoff_${names.size + 1}`);
}

/**
 * How PostgreSQL refuses a statement that it kept prepared: gone or never there (a pooler in
 * transaction mode handed the session another server connection), already there (the same),
 * or its result changed (a newer release altered a column's type).
 */
const REFUSALS = new Set(['26000', '42P05', '0A000']);

function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && REFUSALS.has(code);
}

/** Whether a pool still runs the marked texts as prepared statements. */
export interface PreparedStatementsSwitch {
  on: boolean;
}

/** What the connections of one pool share: the switch, and who hears that it went off. */
interface Preparing {
  readonly prepared: PreparedStatementsSwitch;
  readonly onRefused: (error: Error) => void;
}

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * One pooled client. The texts marked by `keepPrepared` run as named statements
 * (`{ name, text, values }`, pg's own form); everything else runs as given. The first refusal
 * switches them off for the whole pool, for good: the refused statement runs again unnamed
 * when it was alone, and fails with the error inside a transaction (PostgreSQL has aborted
 * it), as any error would. The driver says when a transaction begins and ends.
 */
class PreparingConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(
    readonly client: pg.PoolClient,
    private readonly preparing: Preparing,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { prepared, onRefused } = this.preparing;
    const text = compiled.sql;
    const values = [...compiled.parameters];
    const name = prepared.on ? names.get(text) : undefined;
    let result: pg.QueryResult;
    try {
      result = name ? await this.client.query({ name, text, values }) : await this.client.query(text, values);
    } catch (error) {
      if (!name || !isRefusal(error)) throw error;
      if (prepared.on) {
        prepared.on = false;
        onRefused(error as Error);
      }
      if (this.inTransaction) throw error;
      result = await this.client.query(text, values);
    }
    return {
      numAffectedRows: WRITES.has(result.command) ? BigInt(result.rowCount ?? 0) : undefined,
      rows: (result.rows ?? []) as R[],
    };
  }

  // biome-ignore lint/correctness/useYield: signoff streams no query; Kysely's interface asks for the method.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('signoff streams no query from PostgreSQL');
  }
}

/** Kysely's driver for PostgreSQL, over one pg pool, with connections that keep statements prepared. */
class PreparingDriver implements Driver {
  constructor(
    private readonly pool: pg.Pool,
    private readonly preparing: Preparing,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<PreparingConnection> {
    return new PreparingConnection(await this.pool.connect(), this.preparing);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolation = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    const access = settings.accessMode ? ` ${settings.accessMode}` : '';
    const text = isolation || access ? `start transaction${isolation}${access}` : 'begin';
    await connection.executeQuery(CompiledQuery.raw(text));
    (connection as PreparingConnection).inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection, 'rollback');
  }

  private async end(connection: DatabaseConnection, text: 'commit' | 'rollback'): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw(text));
    } finally {
      (connection as PreparingConnection).inTransaction = false;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PreparingConnection).client.release();
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Kysely's PostgreSQL dialect (its adapter, compiler and introspector) with a driver that runs
 * the texts marked by `keepPrepared` as prepared statements on every pooled connection, until
 * PostgreSQL refuses one (`onRefused` hears it once).
 */
export class PreparedStatementsDialect extends PostgresDialect {
  readonly #driver: PreparingDriver;

  constructor(pool: pg.Pool, prepared: PreparedStatementsSwitch, onRefused: (error: Error) => void) {
    super({ pool });
    this.#driver = new PreparingDriver(pool, { prepared, onRefused });
  }

  override createDriver(): Driver {
    return this.#driver;
  }
}

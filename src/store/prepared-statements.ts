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

/** Transactions as Kysely opens and ends them, seen passing through a client. */
const BEGINS = /^\s*(begin|start transaction)\b/i;
const ENDS = /^\s*(commit|rollback)\s*$/i;

/** Whether a pool still runs the marked texts as prepared statements. */
export interface PreparedStatementsSwitch {
  on: boolean;
}

/**
 * Makes each pooled client run the texts marked by `keepPrepared` as named statements;
 * everything else passes through unchanged. The first refusal switches them off for the
 * whole pool, for good (`onRefused` hears it once): the statement that was refused runs
 * again unnamed when it was alone, and fails with the error when it was part of a transaction
 * (PostgreSQL has aborted that transaction), as any error would.
 */
export function preferPreparedStatements(
  prepared: PreparedStatementsSwitch,
  onRefused: (error: Error) => void,
): (client: pg.PoolClient) => void {
  return (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    let inTransaction = false;
    const named = (...args: unknown[]) => {
      const [text, values, ...rest] = args;
      if (typeof text === 'string') {
        if (BEGINS.test(text)) inTransaction = true;
        else if (ENDS.test(text)) inTransaction = false;
      }
      const name = prepared.on && typeof text === 'string' ? names.get(text) : undefined;
      // Kysely calls with text and values and awaits a promise; other forms pass through.
      if (!name || rest.length > 0) return query(...args);
      return (query({ name, text, values }) as Promise<unknown>).catch((error: unknown) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code !== 'string' || !REFUSALS.has(code)) throw error;
        if (prepared.on) {
          prepared.on = false;
          onRefused(error as Error);
        }
        if (inTransaction) throw error;
        return query(text, values);
      });
    };
    client.query = named as typeof client.query;
  };
}

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
 * Makes a pooled client run the texts marked by `keepPrepared` as named statements;
 * everything else passes through unchanged.
 */
export function preferPreparedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const named = (...args: unknown[]) => {
    const [text, values, ...rest] = args;
    const name = typeof text === 'string' ? names.get(text) : undefined;
    return name ? query({ name, text, values }, ...rest) : query(...args);
  };
  client.query = named as typeof client.query;
}

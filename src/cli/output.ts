/** Where a command writes: results to stdout (for pipes), everything for people to stderr. */
export interface Output {
  /** A line for people: progress, notes, errors. */
  log(line: string): void;
  /** The command's result: a string as is, anything else as JSON. */
  print(value: unknown): void;
}

export const STANDARD_OUTPUT: Output = {
  log: (line) => process.stderr.write(`${line}\n`),
  print: (value) =>
    process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`),
};

/** An error's message on one line, whatever it is: a file's problems are listed one per line. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

/** Rows as a table for people: columns padded to their widest cell, the last one left ragged. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/errors.js';
import { HTTP_STATUS } from '../src/http/errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
/** The catalogue table's rows as code -> HTTP status, however the table is padded. */
const rows = new Map(
  doc
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => /^`[a-z_]+`$/.test(cells[1] ?? ''))
    .map((cells) => [(cells[1] ?? '').replaceAll('`', ''), Number(cells[2])]),
);

describe('docs/errors.md', () => {
  it.each(ERROR_CODES)('documents %s with its HTTP status', (code) => {
    expect(rows.has(code), `docs/errors.md has no row for ${code}`).toBe(true);
    expect(rows.get(code)).toBe(HTTP_STATUS[code]);
  });

  it('lists no code that the code base does not have', () => {
    expect([...rows.keys()].sort()).toEqual([...ERROR_CODES].sort());
  });
});

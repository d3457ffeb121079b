import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { isOutboxKind, OUTBOX_KINDS } from '../../src/outbox/kinds.js';
import { openDatabase } from '../../src/store/database.js';

/** Outbox kinds one place names: all of them (a table of kinds), or some, in passing. */
interface Naming {
  readonly where: string;
  readonly names: readonly string[];
  readonly complete: boolean;
}

const root = new URL('../../', import.meta.url);
const DOCS = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

const ELLIPSIS = /…|\.\.\./;
const unquote = (cell: string) => cell.trim().replace(/^`(.*)`$/, '$1');
const backticked = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

/**
 * Where a Markdown file names outbox kinds: a table whose first column is headed
 * "outbox kind", a parenthesized list after "outbox kind(s)" or "by kind" (`email`,
 * `webhook`, …), and PromQL matchers on the `kind` label (kind="email", kind=~"a|b").
 */
function namingsInDoc(file: string, text: string): Naming[] {
  const namings: Naming[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const header = line.split('|').map((cell) => cell.trim());
    if (header[0] !== '' || header[1]?.toLowerCase() !== 'outbox kind') return;
    const rows = [];
    for (let j = i + 2; j < lines.length && lines[j]?.trimStart().startsWith('|'); j++)
      rows.push(unquote(lines[j]?.split('|')[1] ?? ''));
    namings.push({ where: `${file}:${i + 1} (table)`, names: rows, complete: true });
  });
  lines.forEach((line, i) => {
    for (const match of line.matchAll(/\b(?:outbox kinds?|by kind)\s*\(([^)]*)\)/gi)) {
      const names = backticked(match[1] ?? '');
      // "(below)" points at a list; names are code in the docs.
      if (names.length > 0)
        namings.push({ where: `${file}:${i + 1}`, names, complete: !ELLIPSIS.test(match[1] ?? '') });
    }
    for (const match of line.matchAll(/\bkind\s*(?:=~|!~|!=|=)\s*"([^"]*)"/g))
      namings.push({
        where: `${file}:${i + 1} (PromQL)`,
        names: (match[1] ?? '').split('|').filter((name) => /^[a-z][a-z-]*$/.test(name)),
        complete: false,
      });
  });
  return namings;
}

/** A metric's help names kinds as a bare list: "by kind (email, webhook, …)". */
function namingsInHelp(metric: string, help: string): Naming[] {
  return [...help.matchAll(/\bby kind \(([^)]*)\)/g)].map((match) => ({
    where: `the help of ${metric}`,
    names: (match[1] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name && !ELLIPSIS.test(name)),
    complete: !ELLIPSIS.test(match[1] ?? ''),
  }));
}

const db = openDatabase({ url: 'sqlite::memory:' });
afterAll(() => db.destroy());

const docNamings = DOCS.flatMap((file) => namingsInDoc(file, readFileSync(new URL(file, root), 'utf8')));
const helpNamings = createMetrics(db, () => new Date())
  .registry.getMetricsAsArray()
  .flatMap((metric) => namingsInHelp(metric.name, metric.help));

describe('outbox kinds named outside the code (src/outbox/kinds.ts)', () => {
  it('are found where the operator reads them: the kinds table in docs/operations.md and the delivery help', () => {
    expect(docNamings.some((n) => n.where.startsWith('docs/operations.md') && n.complete)).toBe(true);
    expect(helpNamings.map((n) => n.where)).toContain('the help of signoff_deliveries_total');
  });

  it.each([...docNamings, ...helpNamings].map((n) => [n.where, n] as const))(
    '%s names only kinds the outbox has, and all of them unless it says "…"',
    (_, naming) => {
      const unknown = naming.names.filter((name) => !isOutboxKind(name));
      expect(unknown, `${naming.where} names outbox kinds that do not exist`).toEqual([]);
      if (naming.complete)
        expect([...naming.names].sort(), `${naming.where} says no "…", so it lists every kind`).toEqual(
          [...OUTBOX_KINDS].sort(),
        );
    },
  );
});

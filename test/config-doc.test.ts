import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfigNotingSettings } from '../src/cli/settings.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The lines of the README's "## Configuration" section, up to the next section. */
function configurationSection(): string[] {
  const lines = readme.split('\n');
  const start = lines.indexOf('## Configuration');
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start + 1, end);
}

/** The settings a table row names in its first cell: `SIGNOFF_A` / `SIGNOFF_B`. */
function settingsOf(row: string): string[] {
  const first = row.split('|')[1] ?? '';
  return [...first.matchAll(/`(SIGNOFF_[A-Z0-9_]+)`/g)].map((m) => m[1] as string);
}

describe("the README's configuration table", () => {
  const section = configurationSection();
  const first = section.findIndex((line) => line.startsWith('|'));
  const last = section.findLastIndex((line) => line.startsWith('|'));
  const rows = section.slice(first + 2, last + 1);

  it('is one table: no line between its first and last row is anything else', () => {
    expect(first).toBeGreaterThan(-1);
    expect(section[first + 1]).toMatch(/^\| ---/);
    const strays = rows.filter((line) => !line.startsWith('|'));
    expect(strays, 'text inside the table ends it; the rows after it render as text').toEqual([]);
  });

  it('names each setting once', () => {
    const named = rows.flatMap(settingsOf);
    const twice = named.filter((name, i) => named.indexOf(name) !== i);
    expect(twice).toEqual([]);
  });

  it('names every setting the server reads', () => {
    const { known } = loadConfigNotingSettings({});
    const named = new Set(rows.flatMap(settingsOf));
    // Read by the client commands, described below the table.
    const clientSettings = ['SIGNOFF_URL', 'SIGNOFF_TOKEN'];
    const missing = [...known].filter((name) => !named.has(name) && !clientSettings.includes(name));
    expect(missing).toEqual([]);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The house's folders import each other in one direction only: no folder (nor root file of
// src/) reaches itself again through others, types included.
const SRC = 'src';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** A file's place in the house: its folder under src/, or the root file itself. */
function placeOf(path: string): string {
  const [first, ...rest] = relative(SRC, path).split(sep);
  return rest.length > 0 ? `${first}/` : (first ?? path);
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files(SRC)) {
    const from = placeOf(file);
    for (const [, target] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = placeOf(normalize(join(dirname(file), target ?? '')).replace(/\.js$/, '.ts'));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)?.add(to);
    }
  }
  return graph;
}

/** Every cycle through `start`, as the places it passes. */
function cyclesThrough(graph: Map<string, Set<string>>, start: string): string[][] {
  const found: string[][] = [];
  const walk = (at: string, path: string[]) => {
    for (const next of graph.get(at) ?? []) {
      if (next === start) found.push([...path, start]);
      else if (!path.includes(next)) walk(next, [...path, next]);
    }
  };
  walk(start, [start]);
  return found;
}

describe('the import graph of src/', () => {
  it('has no cycle between folders or root files, types included', () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(10);
    const cycles = [...graph.keys()].flatMap((place) => cyclesThrough(graph, place));
    expect(cycles.map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('has nothing of the outbox, the unit of work or the adapters under services.ts', () => {
    const below = folderGraph().get('services.ts') ?? new Set();
    for (const upward of ['outbox/', 'unit-of-work/', 'channels/', 'callbacks/', 'approvals/', 'http/'])
      expect(below.has(upward), upward).toBe(false);
  });
});

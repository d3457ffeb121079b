import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The suite proves the code on the Node it runs on. A CI left on an older Node than
// package.json's engines would pass on a runtime nobody ships: it fails here instead.

const engines = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    engines: { node: string };
  }
).engines.node;

/** Whether `version` (like process.versions.node) meets an engines range of the form `>=24.11`. */
function satisfiesMinimum(version: string, range: string): boolean {
  const minimum = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!minimum) throw new Error(`engines.node is ${JSON.stringify(range)}; this test reads only ">=X.Y.Z"`);
  const wanted = minimum.slice(1).map((part) => Number(part ?? 0));
  const actual = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const have = actual[i] ?? 0;
    const need = wanted[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}

describe('the Node runtime', () => {
  it("satisfies package.json's engines", () => {
    expect(
      satisfiesMinimum(process.versions.node, engines),
      `Node ${process.versions.node} runs the suite; package.json wants ${engines}`,
    ).toBe(true);
  });

  it('is judged by each part of the version in turn', () => {
    expect(satisfiesMinimum('24.11.0', '>=24.11')).toBe(true);
    expect(satisfiesMinimum('25.0.0', '>=24.11')).toBe(true);
    expect(satisfiesMinimum('24.10.9', '>=24.11')).toBe(false);
    expect(satisfiesMinimum('20.19.5', '>=24.11')).toBe(false);
    expect(satisfiesMinimum('24.11.0', '>=24.11.1')).toBe(false);
  });
});

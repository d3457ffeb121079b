import { describe, expect, it } from 'vitest';
import { actionHash, canonicalize, frozenJsonCopy } from '../../sdk/src/index.js';
import { actionHash as serverActionHash } from '../../src/approvals/action.js';
import { canonicalJson } from '../../src/core/canonical-json.js';

// The SDK has its own RFC 8785 writer (it imports nothing of the server); these cases hold it to
// the RFC's examples and to the server's writer, whose hash a decision is bound to.
const CASES: unknown[] = [
  { tool: 'Bash', arguments: { command: 'rm -rf build', timeout: 120000 } },
  {
    b: [1, 2.5, -0, 1e21, 1e-7, 0.1 + 0.2, -1234567890123456800, 2 ** 53 + 2],
    a: { z: null, y: true, x: false },
  },
  { '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\ud83d\ude00': 5, '\u0080': 6, '\u00f6': 7 },
  { text: 'quote " backslash \\ tab \t newline \n nul \u0000 line sep \u2028 emoji 😀 lone \ud800' },
  { nested: { deeper: [{ deepest: [[], {}, ''] }] }, empty: {}, list: [] },
  JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'),
  'a string',
  42,
  null,
];

describe("the SDK's canonical JSON", () => {
  it('writes the example of RFC 8785 section 3.2.2 as the RFC does', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units, as RFC 8785 section 3.2.3 does', () => {
    expect(Object.keys(JSON.parse(canonicalize(CASES[2])))).toEqual([
      '1',
      '\r',
      '\u0080',
      '\u00f6',
      '\u20ac',
      '\ud83d\ude00',
      '\ufb33',
    ]);
  });

  it.each(CASES.map((value, index) => [index, value]))(
    'agrees with the server on case %i',
    async (_, value) => {
      expect(canonicalize(value)).toBe(canonicalJson(value));
      expect(await actionHash(value)).toBe(serverActionHash(value));
    },
  );

  it('leaves out undefined members and refuses what JSON has no form for', () => {
    expect(canonicalize({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(() => canonicalize({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalize({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalize(10n)).toThrow(TypeError);
  });
});

describe('frozenJsonCopy', () => {
  it('copies a JSON value, frozen at every level, without what JSON leaves out', () => {
    const input = { command: 'ls', flags: ['-l', { color: 'auto' }], skip: undefined };
    const copy = frozenJsonCopy(input) as { flags: [string, { color: string }] };
    expect(copy).toEqual({ command: 'ls', flags: ['-l', { color: 'auto' }] });
    expect(Object.hasOwn(copy, 'skip')).toBe(false);
    expect(copy).not.toBe(input);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(Object.isFrozen(copy.flags)).toBe(true);
    expect(Object.isFrozen(copy.flags[1])).toBe(true);
    input.flags.push('-a');
    expect(copy.flags).toHaveLength(2);
  });

  it('keeps a member named __proto__ a member, as JSON.parse does', () => {
    const copy = frozenJsonCopy(JSON.parse('{"__proto__": {"polluted": true}}')) as object;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__']);
  });

  it.each([
    ['a Date', { at: new Date() }, /\$\.at is a Date/],
    ['a Map', { m: new Map() }, /\$\.m is a Map/],
    ['a class instance', { u: new URL('https://example.com') }, /\$\.u is a URL/],
    ['a function', { f: () => 1 }, /\$\.f is a function/],
    ['undefined in an array', { list: [1, undefined] }, /\$\.list\[1\] is undefined/],
    ['a non-finite number', { n: Number.POSITIVE_INFINITY }, /\$\.n is Infinity/],
    ['a bigint', { n: 1n }, /\$\.n is a bigint/],
  ])('refuses %s', (_, value, message) => {
    expect(() => frozenJsonCopy(value)).toThrow(message);
  });

  it('refuses a cycle, and copies a value shared by two members', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => frozenJsonCopy(cycle)).toThrow(/\$\.self refers back to itself/);
    const shared = { x: 1 };
    expect(frozenJsonCopy({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});

/**
 * JSON in the canonical form of RFC 8785 (JCS): object members sorted by their names' UTF-16
 * code units, no whitespace, numbers and strings written as ECMAScript's JSON.stringify writes
 * them. Two parties that hold the same value write the same bytes, so a hash of them names the
 * value. Throws on what JSON cannot carry (a non-finite number, undefined, a function).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no form for a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    // The default sort compares UTF-16 code units, as RFC 8785 asks.
    const members = Object.keys(value)
      .sort()
      .flatMap((key) => {
        const member = (value as Record<string, unknown>)[key];
        return member === undefined ? [] : [`${JSON.stringify(key)}:${canonicalJson(member)}`];
      });
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
}

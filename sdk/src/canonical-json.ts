/**
 * RFC 8785 (JSON Canonicalization Scheme), written for the SDK so that it depends on nothing of
 * the server: object members sorted by the UTF-16 code units of their names, no whitespace,
 * strings and numbers as ECMAScript's JSON.stringify writes them (which RFC 8785 adopts).
 * signoff hashes an action the same way, so equal hashes mean equal actions.
 */
export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`RFC 8785 cannot write the number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
      const record = value as Record<string, unknown>;
      // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 asks.
      const names = Object.keys(record)
        .filter((name) => record[name] !== undefined)
        .sort();
      return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalize(record[name])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`RFC 8785 cannot write a ${typeof value}`);
  }
}

/**
 * The hash signoff binds a decision to: `sha256:` and the lowercase hex SHA-256 of the action's
 * RFC 8785 form. Web Crypto, so it runs wherever `fetch` does.
 */
export async function actionHash(action: unknown): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalize(action)));
  const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `sha256:${hex}`;
}

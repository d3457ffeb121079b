import type { JsonValue } from './types.js';

/**
 * A deep copy of a JSON value, frozen at every level: what `requireApproval` asks about and
 * later hands to its function, so nothing the caller still holds can change it in between.
 * Refuses what JSON would silently change (a Date, a Map, a class instance, a function,
 * undefined in an array, a non-finite number, a cycle) rather than ask about something else
 * than what would run; an object member that is undefined is left out, as JSON leaves it out.
 */
export function frozenJsonCopy(value: unknown): JsonValue {
  return copy(value, '$', new Set());
}

function copy(value: unknown, path: string, ancestors: Set<object>): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new TypeError(`${path} is ${value}, which JSON cannot carry`);
  }
  if (typeof value !== 'object') throw new TypeError(`${path} is a ${typeof value}, which JSON cannot carry`);
  if (ancestors.has(value)) throw new TypeError(`${path} refers back to itself`);
  ancestors.add(value);
  try {
    if (Array.isArray(value))
      return Object.freeze(
        value.map((item, index) => {
          if (item === undefined)
            throw new TypeError(`${path}[${index}] is undefined, which JSON cannot carry`);
          return copy(item, `${path}[${index}]`, ancestors);
        }),
      );
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null)
      throw new TypeError(
        `${path} is a ${prototype?.constructor?.name ?? 'non-plain object'}; pass plain JSON (a Date as a string)`,
      );
    // Object.fromEntries defines members, so a member named __proto__ stays a member.
    return Object.freeze(
      Object.fromEntries(
        Object.entries(value)
          .filter(([, member]) => member !== undefined)
          .map(([name, member]) => [name, copy(member, `${path}.${name}`, ancestors)]),
      ),
    );
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Control characters no text takes: C0 but tab, line feed and carriage return, DEL, and C1.
 * PostgreSQL refuses NUL outright, and the others only ever hide or forge text in a mail,
 * a page or a log line.
 */
const CONTROL_IN_TEXT = /[^\P{Cc}\t\n\r]/u;
/** In a field of one line (a title, an id, a key), tab and line breaks are refused too. */
const CONTROL_IN_LINE = /\p{Cc}/u;

/**
 * Bounds on a request's metadata. It is stored with the approval, sent back by every read and
 * list, and given to rules and the AI reviewer, so it must stay small and shallow.
 */
export const METADATA_LIMITS = { depth: 8, keys: 100, bytes: 16 * 1024 } as const;
/**
 * Bounds on the action an agent names. Its arguments may carry a whole command or a diff, so it
 * may be larger than metadata; it is still shown in full on every page and in every mail.
 */
export const ACTION_LIMITS = { depth: 16, keys: 500, bytes: 32 * 1024 } as const;

interface JsonLimits {
  readonly depth: number;
  readonly keys: number;
  readonly bytes: number;
}

/** The JSON Schema format of a string of one line: `Type.String({ format: SINGLE_LINE })`. */
export const SINGLE_LINE = 'single-line';

/** Whether `text` is one line: no tab, line break or other control character. */
export function isSingleLine(text: string): boolean {
  return !CONTROL_IN_LINE.test(text);
}

/** Why `metadata` (or a value with other `limits`) is too deep, has too many keys or is too large, or undefined. */
export function metadataProblem(metadata: unknown, limits: JsonLimits = METADATA_LIMITS): string | undefined {
  let keys = 0;
  // Iterative, so that input nested thousands of levels deep cannot exhaust the stack.
  const pending: { value: unknown; depth: number }[] = [{ value: metadata, depth: 1 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, depth } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limits.depth) return `must not nest objects and lists more than ${limits.depth} levels deep`;
    if (!Array.isArray(value)) keys += Object.keys(value).length;
    if (keys > limits.keys) return `must not have more than ${limits.keys} keys in all`;
    for (const child of Array.isArray(value) ? value : Object.values(value))
      pending.push({ value: child, depth: depth + 1 });
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) > limits.bytes)
    return `must not be larger than ${limits.bytes / 1024} KiB as JSON`;
  return undefined;
}

/** Where (a JSON Pointer) a string or an object key holds a control character it may not, or undefined. */
export function findControlCharacter(value: unknown): { path: string; inKey: boolean } | undefined {
  // Every request passes through here: a node knows its parent and key, and the path is
  // spelled only for the node found, not for every node visited.
  const pending: Visit[] = [{ value, parent: undefined, key: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value } = next;
    if (typeof value === 'string') {
      if (CONTROL_IN_TEXT.test(value)) return { path: pointerOf(next), inKey: false };
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => {
        pending.push({ value: item, parent: next, key: String(index) });
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (CONTROL_IN_LINE.test(key)) return { path: pointerOf(next), inKey: true };
        pending.push({ value: item, parent: next, key });
      }
    }
  }
  return undefined;
}

interface Visit {
  readonly value: unknown;
  readonly parent: Visit | undefined;
  readonly key: string;
}

/** The JSON Pointer of a visited node: its keys from the root, escaped. */
function pointerOf(visit: Visit): string {
  let path = '';
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent)
    path = `/${at.key.replaceAll('~', '~0').replaceAll('/', '~1')}${path}`;
  return path;
}

import { REORDERING_CHARACTERS } from './core/text.js';

/**
 * Control characters no text takes: C0 but tab, line feed and carriage return, DEL, and C1.
 * PostgreSQL refuses NUL outright, and the others only ever hide or forge text in a mail,
 * a page or a log line.
 */
const CONTROL_IN_TEXT = /[^\P{Cc}\t\n\r]/u;
/** In a field of one line (a title, an id, a key), tab and line breaks are refused too. */
const CONTROL_IN_LINE = /\p{Cc}/u;
/** Nor may a line hold what reorders or breaks it unseen (see REORDERING_CHARACTERS). */
const REORDERING_IN_LINE = new RegExp(`[${REORDERING_CHARACTERS}]`, 'u');
/**
 * Half of a UTF-16 surrogate pair, without the other half: not a character at all. JSON lets
 * `\ud800` through, and PostgreSQL would store U+FFFD for it while the answer and the audit
 * event kept it, so no text anywhere may hold one.
 */
const LONE_SURROGATE = /\p{Cs}/u;

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

/**
 * Whether `text` is one line: no tab, line break or other control character, no line or
 * paragraph separator, no bidirectional embedding, override or isolate.
 */
export function isSingleLine(text: string): boolean {
  return !CONTROL_IN_LINE.test(text) && !REORDERING_IN_LINE.test(text);
}

/** What a line may not hold, as the refusal of a single-line field says it. */
export const SINGLE_LINE_RULE =
  'a single line of text, without tabs, line breaks, control characters or bidirectional controls';

/** Where (a JSON Pointer) a string holds a lone surrogate, or undefined. */
export function findLoneSurrogate(value: unknown): string | undefined {
  return findText(
    value,
    (text) => LONE_SURROGATE.test(text),
    (key) => LONE_SURROGATE.test(key),
  )?.path;
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

/** Text no string or key of any input may hold, where it is, and what is wrong with it. */
export interface TextProblem {
  /** The JSON Pointer of the string, or of the object whose key it is. */
  readonly path: string;
  readonly inKey: boolean;
  /** What is wrong, to follow the field's name: "holds a control character". */
  readonly problem: string;
}

/**
 * Where a string or an object key holds what no text may: a control character (in a key,
 * tab and line breaks too, and what reorders a line), or a lone surrogate. Undefined when
 * there is nothing.
 */
export function findUnacceptableText(value: unknown): TextProblem | undefined {
  const found = findText(
    value,
    (text) => CONTROL_IN_TEXT.test(text) || LONE_SURROGATE.test(text),
    (key) => !isSingleLine(key) || LONE_SURROGATE.test(key),
  );
  if (!found) return undefined;
  const surrogate = LONE_SURROGATE.test(found.text);
  const problem = surrogate
    ? 'a lone UTF-16 surrogate (half of a pair, \\uD800 to \\uDFFF, which is not text)'
    : found.inKey && !CONTROL_IN_LINE.test(found.text)
      ? 'a line or paragraph separator or a bidirectional control'
      : 'a control character';
  return {
    path: found.path,
    inKey: found.inKey,
    problem: `${found.inKey ? 'has a key with' : 'holds'} ${problem}`,
  };
}

/** The first string or key (depth first) that `badText` or `badKey` refuses: where, and which. */
function findText(
  value: unknown,
  badText: (text: string) => boolean,
  badKey: (key: string) => boolean,
): { path: string; inKey: boolean; text: string } | undefined {
  // Every request passes through here: a node knows its parent and key, and the path is
  // spelled only for the node found, not for every node visited.
  const pending: Visit[] = [{ value, parent: undefined, key: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value } = next;
    if (typeof value === 'string') {
      if (badText(value)) return { path: pointerOf(next), inKey: false, text: value };
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => {
        pending.push({ value: item, parent: next, key: String(index) });
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (badKey(key)) return { path: pointerOf(next), inKey: true, text: key };
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

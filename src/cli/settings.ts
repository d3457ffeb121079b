import { type Config, loadConfig } from '../config.js';

/** Settings read outside the server's configuration: by the client commands and by `serve`. */
const OTHER_SETTINGS = ['SIGNOFF_URL', 'SIGNOFF_TOKEN', 'SIGNOFF_ADMIN_KEY_FILE'];

/**
 * Loads the configuration and notes every `SIGNOFF_*` name it asked for, so the list of known
 * settings is the one the code reads, never a copy that drifts from it.
 */
export function loadConfigNotingSettings(env: Record<string, string | undefined> = process.env): {
  config: Config;
  known: Set<string>;
} {
  const known = new Set(OTHER_SETTINGS);
  const noting = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string' && name.startsWith('SIGNOFF_')) known.add(name);
      return Reflect.get(target, name);
    },
  });
  return { config: loadConfig(noting), known };
}

/** Levenshtein distance, bounded work for the short names settings have. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A variable that is not a setting but looks like a typo of one. */
export interface Misspelling {
  readonly name: string;
  readonly likely: string;
}

/**
 * Environment names starting with `SIGNOFF_` (in any case) that are no known setting but within
 * two edits of one, or equal to one but for case. Names far from every setting are left alone:
 * they may belong to something else.
 */
export function findMisspelledSettings(
  env: Record<string, string | undefined>,
  known: ReadonlySet<string>,
): Misspelling[] {
  const found: Misspelling[] = [];
  for (const name of Object.keys(env)) {
    if (known.has(name) || !name.toUpperCase().startsWith('SIGNOFF_')) continue;
    let best: { likely: string; distance: number } | undefined;
    for (const setting of known) {
      const distance = editDistance(name.toUpperCase(), setting);
      if (distance <= 2 && (!best || distance < best.distance)) best = { likely: setting, distance };
    }
    if (best) found.push({ name, likely: best.likely });
  }
  return found;
}

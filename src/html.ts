const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Only http(s) URLs become clickable; anything else (javascript:, data:) is shown as text. */
export function safeHref(value: string | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Metadata as "key: value" lines, trimmed so a huge object cannot flood a mail or a message. */
export function metadataText(metadata: Readonly<Record<string, unknown>>, max = 2000): string {
  const text = metadataRows(metadata)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n');
  return text.length > max ? `${text.slice(0, max)}\n…` : text;
}

/** Metadata as rows of a table, the same everywhere: a string as it is, anything else as JSON. */
export function metadataRows(metadata: Readonly<Record<string, unknown>>, max = 100): [string, string][] {
  return Object.entries(metadata)
    .slice(0, max)
    .map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
}

/**
 * The action an agent asks to take, for people: the hash that binds the decision to it, then
 * the action itself as JSON (cut at `max` characters; the page shows it whole).
 */
export function actionText(
  action: { readonly content: unknown; readonly hash: string } | null,
  max = 4000,
): string {
  if (!action) return '';
  const text = JSON.stringify(action.content, null, 2);
  return `${action.hash}\n${text.length > max ? `${text.slice(0, max)}\n…` : text}`;
}

/** Markup that is already safe: the tagged template inserts it as it is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function insert(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(insert).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/**
 * The tagged template every page is written with: each inserted value is escaped unless it
 * is SafeHtml (another `html` result); arrays are joined; null, undefined and false vanish.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (const [index, value] of values.entries()) out += insert(value) + (strings[index + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks markup made by a renderer that escapes on its own (Markdown with HTML off) as safe. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

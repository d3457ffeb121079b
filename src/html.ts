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

/** Metadata as indented JSON, trimmed so a huge object cannot flood a page or a mail. */
export function metadataText(metadata: Readonly<Record<string, unknown>>, max = 2000): string {
  if (Object.keys(metadata).length === 0) return '';
  const text = JSON.stringify(metadata, null, 2);
  return text.length > max ? `${text.slice(0, max)}\n…` : text;
}

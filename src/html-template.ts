import { escapeHtml } from './html.js';

/** Markup that is already safe: built by `html` or vouched for with `trustedHtml`. */
export class SafeHtml {
  readonly #markup: string;

  constructor(markup: string) {
    this.#markup = markup;
  }

  toString(): string {
    return this.#markup;
  }
}

/** What may go into a template: text (escaped), safe markup (kept), lists of either, or nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function interpolate(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (Array.isArray(value)) return value.map(interpolate).join('');
  // `cond && html`...`` leaves false behind when the condition fails: it renders as nothing.
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/**
 * Builds HTML from a template in which every interpolated value is escaped, unless it is
 * itself `html` or `trustedHtml`: escaping is the default, never a call at each site.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let markup = strings[0] ?? '';
  for (const [index, value] of values.entries()) markup += interpolate(value) + (strings[index + 1] ?? '');
  return new SafeHtml(markup);
}

/** Marks markup signoff wrote itself (never anything a request carried) as safe to insert. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

import { formatUtc } from '../../core/approval-facts.js';
import { html, type SafeHtml } from '../../html.js';

/** Who is signed in, for the header; absent on pages that need no one. */
export interface Viewer {
  readonly actor: string;
  readonly csrfToken: string;
}

export interface PageOptions {
  readonly title: string;
  readonly body: SafeHtml;
  readonly viewer?: Viewer | undefined;
  /** The event stream that tells this page to refresh its live parts. */
  readonly events?: string | undefined;
}

/** A whole page: one stylesheet and one script of signoff's own, landmarks, a skip link. */
export function renderPage({ title, body, viewer, events }: PageOptions): string {
  const account = viewer
    ? html`<span class="who">Signed in as ${viewer.actor}</span>
<form method="post" action="/sign-out"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">
<button type="submit">Sign out</button></form>`
    : '';
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">
<title>${title} · signoff</title><link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script></head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">signoff</a>${account}</header>
<main id="main"${events ? html` data-events="${events}"` : ''}>${body}</main>
<footer class="bottom"><p>signoff · approvals decided by people, recorded for good.</p></footer>
</body></html>`}`;
}

/** A banner screen readers announce. */
export function banner(text: SafeHtml | string, tone: 'info' | 'ok' | 'bad' = 'info'): SafeHtml {
  return html`<p class="banner${tone === 'info' ? '' : ` ${tone}`}" role="status">${text}</p>`;
}

/** A point in time: in UTC as the mail says it, in the viewer's named zone once the script has run. */
export function when(at: Date): SafeHtml {
  return html`<time datetime="${at.toISOString()}">${formatUtc(at)}</time>`;
}

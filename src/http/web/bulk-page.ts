import { html } from '../../html.js';
import { banner, renderPage, type Viewer } from './layout.js';

/** What happened to one of several approvals decided at once. */
export interface BulkOutcome {
  readonly id: string;
  readonly title: string | undefined;
  /** The approval's status after the decision, when it was recorded. */
  readonly status?: string;
  /** Why it was left as it was, when it was. */
  readonly refused?: { readonly code: string; readonly message: string };
}

/** The result of deciding several approvals at once: each one's own outcome. */
export function renderBulkResult(
  verdict: 'approve' | 'reject',
  outcomes: readonly BulkOutcome[],
  viewer: Viewer,
) {
  const done = outcomes.filter((o) => !o.refused).length;
  const what = verdict === 'approve' ? 'approval' : 'rejection';
  return renderPage({
    title: 'Decided',
    viewer,
    body: html`<p><a href="/">← Inbox</a></p><h1>Decided ${done} of ${outcomes.length}</h1>
${banner(`Your ${what} is recorded on ${done} of the ${outcomes.length} you selected.`, done === outcomes.length ? 'ok' : 'bad')}
<ul class="items">${outcomes.map(
      (o) =>
        html`<li><a class="title" href="/approvals/${o.id}">${o.title ?? o.id}</a>
<div class="muted">${o.refused ? html`<strong>Left as it was</strong>: ${o.refused.message} (${o.refused.code})` : html`Recorded · the approval is now ${o.status}`}</div></li>`,
    )}</ul>`,
  });
}

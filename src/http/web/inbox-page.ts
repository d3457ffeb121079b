import type { InboxQuery, InboxTab } from '../../approvals/inbox.js';
import { describeStages, requesterWords, stageSentence } from '../../core/approval-facts.js';
import { APPROVAL_STATUSES, type Approval } from '../../core/model.js';
import { evaluateStages } from '../../core/stages.js';
import { html, type SafeHtml } from '../../html.js';
import { renderPage, type Viewer, when } from './layout.js';

const TAB_NAMES: Record<InboxTab, string> = {
  waiting: 'Waiting for me',
  requested: 'Requested by me',
  history: 'History',
};

export interface InboxView {
  readonly query: InboxQuery;
  readonly items: readonly Approval[];
  readonly nextCursor: string | null;
  /** How many approvals wait for the viewer (the first page's worth, "50+" beyond). */
  readonly waitingCount: string;
  /** Whether standing grants are on: the inbox then links to their page. */
  readonly grants?: boolean | undefined;
}

function queryString(query: InboxQuery, changes: Partial<Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  const all = {
    tab: query.tab,
    status: query.status,
    requester: query.requester,
    metadata: query.metadata,
    q: query.search,
    ...changes,
  };
  for (const [key, value] of Object.entries(all)) if (value) params.set(key, value);
  return `/?${params.toString()}`;
}

/** Where a waiting approval stands: every stage and its gates, as the page says them. */
function progressList(approval: Approval): SafeHtml {
  const stages = describeStages(evaluateStages(approval), false).filter((s) => s.state !== 'passed');
  return html`${stages.map((stage) => html`<div class="progress">${stageSentence(stage)}</div>`)}`;
}

function item(approval: Approval, tab: InboxTab): SafeHtml {
  const last = approval.decisions.at(-1);
  const detail =
    tab === 'history' || approval.status !== 'pending'
      ? html`<span class="badge status-${approval.status}">${approval.status}</span>
${last ? html` by ${last.actor} ${when(last.at)}${last.comment ? html` — “${last.comment}”` : ''}` : approval.reason ? html` — ${approval.reason}` : ''}`
      : html`decide by ${when(approval.expiresAt)}${progressList(approval)}`;
  // What waits for the reader can be picked for deciding several at once (the form below the list).
  const pick =
    tab === 'waiting' && approval.status === 'pending'
      ? html`<input type="checkbox" class="pick" name="ids" value="${approval.id}" form="bulk" aria-label="Select: ${approval.title}"> `
      : '';
  return html`<li>${pick}<a class="title" href="/approvals/${approval.id}">${approval.title}</a>
<div class="muted">Requested by ${requesterWords(approval.requester)} · ${detail}</div></li>`;
}

/** Approve or reject the picked approvals with one comment; each is decided on its own. */
function bulkForm(csrfToken: string): SafeHtml {
  return html`<form id="bulk" method="post" action="/approvals/decisions" aria-label="Decide the selected approvals">
<input type="hidden" name="_csrf" value="${csrfToken}">
<h2>Decide the selected ones</h2>
<p class="muted">Each is decided on its own, as if you opened it: any that may not be decided by you is left as it is and listed.</p>
<label for="bulk-comment">Comment (optional)</label>
<textarea id="bulk-comment" name="comment" maxlength="2000"></textarea>
<div class="actions"><button class="approve" type="submit" name="verdict" value="approve">Approve selected</button>
<button class="reject" type="submit" name="verdict" value="reject">Reject selected</button></div></form>`;
}

function filters(query: InboxQuery): SafeHtml {
  return html`<form class="filters" method="get" action="/" role="search" aria-label="Filter approvals">
<input type="hidden" name="tab" value="${query.tab}">
<div><label for="q">Title</label><input id="q" name="q" type="search" value="${query.search ?? ''}" maxlength="200"></div>
<div><label for="status">Status</label><select id="status" name="status"><option value="">any</option>${APPROVAL_STATUSES.map(
    (s) => html`<option value="${s}"${query.status === s ? html` selected` : ''}>${s}</option>`,
  )}</select></div>
<div><label for="requester">Requester</label><input id="requester" name="requester" value="${query.requester ?? ''}" maxlength="320"></div>
<div><label for="metadata">Metadata</label><input id="metadata" name="metadata" value="${query.metadata ?? ''}" placeholder="pipeline=web" maxlength="200"></div>
<div><button type="submit">Filter</button></div></form>`;
}

/** The inbox: three tabs, filters, one page of approvals, a link to the next. */
export function renderInbox(view: InboxView, viewer: Viewer): string {
  const { query } = view;
  const tabs = (Object.keys(TAB_NAMES) as InboxTab[]).map(
    (tab) =>
      html`<a href="/?tab=${tab}"${tab === query.tab ? html` aria-current="page"` : ''}>${TAB_NAMES[tab]}${tab === 'waiting' ? ` (${view.waitingCount})` : ''}</a>`,
  );
  const list =
    view.items.length === 0
      ? html`<p class="muted">Nothing here${query.tab === 'waiting' ? ': nothing waits for you' : ''}.</p>`
      : html`<ul class="items">${view.items.map((a) => item(a, query.tab))}</ul>`;
  const next = view.nextCursor
    ? html`<nav class="pager" aria-label="Pages"><a class="button" href="${queryString(query, { cursor: view.nextCursor })}">Older</a></nav>`
    : '';
  return renderPage({
    title: `(${view.waitingCount}) Inbox`,
    viewer,
    events: '/events',
    body: html`<h1>Approvals</h1>
<nav class="tabs" id="tabs" data-live aria-label="Lists">${tabs}</nav>
${filters(query)}
<div id="items" data-live>${list}${next}</div>
${query.tab === 'waiting' ? bulkForm(viewer.csrfToken) : ''}
${view.grants ? html`<p><a href="/grants">Standing grants</a>: what you allowed again, and what was allowed for you.</p>` : ''}`,
  });
}

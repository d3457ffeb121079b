import type { Approval, Verdict } from '../../core/model.js';
import { html } from '../../html.js';
import {
  approvalSummary,
  type DecisionFormOptions,
  decidedBanner,
  decisionForm,
  type SummaryContext,
} from './approval-parts.js';
import { renderPage, type Viewer } from './layout.js';

/** An approval as a signed-in person sees it: the form only while it waits for them. */
export function renderApprovalPage(options: {
  approval: Approval;
  context: SummaryContext;
  viewer: Viewer;
  waitingForViewer: boolean;
  preselect?: Verdict | undefined;
  decided?: Verdict | undefined;
  grant?: DecisionFormOptions['grant'];
  /** Whether the viewer may call it off (its requester, or an admin) while it waits. */
  mayCancel?: boolean;
}): string {
  const { approval, viewer } = options;
  const form = options.waitingForViewer
    ? decisionForm(approval, {
        action: `/approvals/${approval.id}/decisions`,
        actor: viewer.actor,
        csrfToken: viewer.csrfToken,
        preselect: options.preselect,
        grant: options.grant,
      })
    : '';
  const cancel =
    options.mayCancel && approval.status === 'pending'
      ? html`<form method="post" action="/approvals/${approval.id}/cancel" id="cancel" aria-label="Cancel this request">
<input type="hidden" name="_csrf" value="${viewer.csrfToken}">
<h2>Cancel this request</h2>
<p>Nobody can decide it afterwards, and whatever waits on it is told that it was cancelled.</p>
<label for="reason">Why (optional)</label>
<textarea id="reason" name="reason" maxlength="2000"></textarea>
<div class="actions"><button type="submit" class="reject">Cancel the request</button></div></form>`
      : '';
  return renderPage({
    title: approval.title,
    viewer,
    events: `/approvals/${approval.id}/events`,
    body: html`<p><a href="/">← Inbox</a></p>${options.decided ? decidedBanner(approval, options.decided) : ''}
${approvalSummary(approval, options.context)}${form}${cancel}`,
  });
}

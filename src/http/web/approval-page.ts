import type { AuditEvent } from '../../core/audit.js';
import type { Approval, Verdict } from '../../core/model.js';
import { html } from '../../html.js';
import { approvalSummary, type DecisionFormOptions, decidedBanner, decisionForm } from './approval-parts.js';
import { renderPage, type Viewer } from './layout.js';

/** An approval as a signed-in person sees it: the form only while it waits for them. */
export function renderApprovalPage(options: {
  approval: Approval;
  events: readonly AuditEvent[];
  now: Date;
  viewer: Viewer;
  waitingForViewer: boolean;
  preselect?: Verdict | undefined;
  decided?: Verdict | undefined;
  grant?: DecisionFormOptions['grant'];
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
  return renderPage({
    title: approval.title,
    viewer,
    events: `/approvals/${approval.id}/events`,
    body: html`<p><a href="/">← Inbox</a></p>${options.decided ? decidedBanner(approval, options.decided) : ''}
${approvalSummary(approval, options.events, options.now)}${form}`,
  });
}

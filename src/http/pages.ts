import type { OpenedLink } from '../approvals/links.js';
import { formatDuration } from '../core/duration.js';
import type { Approval, Verdict } from '../core/model.js';
import { adviceFor } from '../core/review.js';
import { evaluateStages } from '../core/stages.js';
import { escapeHtml, metadataText, safeHref } from '../html.js';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:42em;margin:2em auto;padding:0 1em;color:#1f2328}
h1{font-size:1.4em}pre{background:#f6f8fa;padding:.8em;overflow:auto}.muted{color:#57606a}
textarea{width:100%;min-height:5em;box-sizing:border-box}.actions{display:flex;gap:1em;margin-top:1em}
button{font-size:1em;padding:.6em 1.4em;border-radius:6px;border:1px solid #1f232826;cursor:pointer}
.approve{background:#1a7f37;color:#fff}.reject{background:#cf222e;color:#fff}.selected{outline:3px solid #0969da}
.banner{padding:.8em;border-radius:6px;background:#fff8c5}.advice{border-left:3px solid #8250df;padding-left:.8em}`;

/** A whole page: inline style only, no script, no third-party asset. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">
<title>${escapeHtml(title)} · signoff</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function summary(approval: Approval, now: Date): string {
  const href = safeHref(approval.link);
  const metadata = metadataText(approval.metadata);
  const progress = evaluateStages(approval)
    .flatMap((s) => s.gates.map((g) => `${g.approvals.length} of ${g.required} approvals`))
    .join('; ');
  return `<h1>${escapeHtml(approval.title)}</h1>
<p class="muted">Requested by ${escapeHtml(approval.requester ?? 'an automation')} · ${escapeHtml(progress)} ·
times out in ${escapeHtml(formatDuration(approval.expiresAt.getTime() - now.getTime()))}</p>
${approval.description ? `<p style="white-space:pre-wrap">${escapeHtml(approval.description)}</p>` : ''}
${href ? `<p>Link: <a href="${escapeHtml(href)}" rel="noreferrer noopener">${escapeHtml(approval.link)}</a></p>` : approval.link ? `<p>Link: ${escapeHtml(approval.link)}</p>` : ''}
${metadata ? `<pre>${escapeHtml(metadata)}</pre>` : ''}
${adviceFor(approval)
  .map((line) => `<p class="advice">${escapeHtml(line)}</p>`)
  .join('\n')}`;
}

/** The confirmation page a link opens. Viewing it decides nothing. */
export function renderDecisionPage(
  opened: OpenedLink,
  token: string,
  now: Date,
  preselect?: Verdict,
): string {
  const { approval, link } = opened;
  const left = formatDuration(Number(link.expires_at) - now.getTime());
  const mark = (verdict: Verdict) => (preselect === verdict ? ' selected' : '');
  return page(
    approval.title,
    `${summary(approval, now)}
<form method="post" action="/d/${escapeHtml(token)}">
<p>You are deciding as <strong>${escapeHtml(link.approver)}</strong>. This link works once, for ${escapeHtml(left)}.</p>
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<div class="actions">
<button class="approve${mark('approve')}" type="submit" name="verdict" value="approve"${preselect === 'approve' ? ' autofocus' : ''}>Approve</button>
<button class="reject${mark('reject')}" type="submit" name="verdict" value="reject"${preselect === 'reject' ? ' autofocus' : ''}>Reject</button>
</div></form>`,
  );
}

/** What a used or expired link shows; offers a fresh link while the approver is still needed. */
export function renderSpentLinkPage(opened: OpenedLink, why: string, token: string, now: Date): string {
  const status =
    opened.approval.status === 'pending'
      ? 'The approval is still waiting for decisions.'
      : `The approval is ${opened.approval.status}.`;
  const renew = opened.renewable
    ? `<form method="post" action="/d/${escapeHtml(token)}/renew"><p>We can email ${escapeHtml(opened.link.approver)} a new link.</p>
<button type="submit">Email me a new link</button></form>`
    : '';
  return page(
    opened.approval.title,
    `<p class="banner">${escapeHtml(why)}</p><p>${escapeHtml(status)}</p>${renew}${summary(opened.approval, now)}`,
  );
}

/** Shown after a decision was recorded. */
export function renderDecidedPage(approval: Approval, verdict: Verdict, now: Date): string {
  const outcome =
    approval.status === 'pending'
      ? 'The approval is still waiting for other approvers.'
      : `The approval is now ${approval.status}.`;
  return page(
    approval.title,
    `<p class="banner">Thank you: your ${verdict === 'approve' ? 'approval' : 'rejection'} is recorded. ${escapeHtml(outcome)}</p>${summary(approval, now)}`,
  );
}

/** Shown after a new link was requested. */
export function renderRenewedPage(approver: string): string {
  return page('New link sent', `<p class="banner">A new link is on its way to ${escapeHtml(approver)}.</p>`);
}

/** A page for an error on a decision page route. */
export function renderErrorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OpenedLink } from '../approvals/links.js';
import { formatDuration } from '../core/duration.js';
import type { Approval, Verdict } from '../core/model.js';
import { html } from '../html.js';
import { approvalSummary, decidedBanner, decisionForm, type SummaryContext } from './web/approval-parts.js';
import { banner, renderPage } from './web/layout.js';

/** The confirmation page a link opens. Viewing it decides nothing. */
export function renderDecisionPage(
  opened: OpenedLink,
  token: string,
  context: SummaryContext,
  preselect?: Verdict,
): string {
  const { approval, link } = opened;
  const left = formatDuration(Number(link.expires_at) - context.now.getTime());
  const lifetime =
    Number(link.expires_at) >= approval.expiresAt.getTime()
      ? `until the request's deadline, in ${left}`
      : `for ${left}`;
  return renderPage({
    title: approval.title,
    body: html`${approvalSummary(approval, context)}
${decisionForm(approval, {
  action: `/d/${token}`,
  actor: link.approver,
  preselect,
  note: `This link works once, ${lifetime}.`,
})}`,
  });
}

/** What a used or expired link shows; offers a fresh link while the approver is still needed. */
export function renderSpentLinkPage(
  opened: OpenedLink,
  why: string,
  token: string,
  context: SummaryContext,
): string {
  const status =
    opened.approval.status === 'pending'
      ? 'The approval is still waiting for decisions.'
      : `The approval is ${opened.approval.status}.`;
  const renew = opened.renewable
    ? html`<form method="post" action="/d/${token}/renew"><p>We can email ${opened.link.approver} a new link.</p>
<button type="submit">Email me a new link</button></form>`
    : '';
  return renderPage({
    title: opened.approval.title,
    body: html`${banner(why)}<p>${status}</p>${renew}${approvalSummary(opened.approval, context)}`,
  });
}

/** Shown after a decision was recorded. */
export function renderDecidedPage(approval: Approval, verdict: Verdict, context: SummaryContext): string {
  return renderPage({
    title: approval.title,
    body: html`${decidedBanner(approval, verdict)}${approvalSummary(approval, context)}`,
  });
}

/** Shown after a new link was requested. */
export function renderRenewedPage(approver: string): string {
  return renderPage({
    title: 'New link sent',
    body: banner(`A new link is on its way to ${approver}.`, 'ok'),
  });
}

/** A page for an error on a page route. */
export function renderErrorPage(title: string, message: string): string {
  return renderPage({
    title,
    body: html`<h1>${title}</h1>${banner(message, 'bad')}<p><a href="/">Go to the inbox</a></p>`,
  });
}

/** Whether the caller asked for JSON rather than a page. */
export function wantsJson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/json');
}

/** Headers every page carries (decision links, the web app): nothing leaks through Referer, nothing is cached. */
export function setPageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
}

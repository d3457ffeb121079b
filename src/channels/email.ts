import { formatDuration } from '../core/duration.js';
import type { Approval } from '../core/model.js';
import { adviceFor } from '../core/review.js';
import { escapeHtml, metadataText, safeHref } from '../html.js';
import type { MailMessage } from './mailer.js';

export interface ApprovalMailInput {
  readonly approval: Approval;
  readonly to: string;
  readonly decisionUrl: string;
  readonly linkExpiresAt: Date;
  readonly now: Date;
  readonly renewed: boolean;
  readonly reminder?: boolean | undefined;
}

/** The mail that asks one approver for a decision, with their one-time link. */
export function renderApprovalMail(input: ApprovalMailInput): MailMessage {
  const { approval, decisionUrl } = input;
  const validFor = formatDuration(input.linkExpiresAt.getTime() - input.now.getTime());
  const requester = approval.requester ?? 'an automation';
  const metadata = metadataText(approval.metadata);
  const prefix = input.reminder ? 'Reminder: ' : input.renewed ? 'New link: ' : '';
  const subject = `${prefix}Approval needed: ${approval.title}`.slice(0, 200);
  const advice = adviceFor(approval);
  const paragraphs = [
    `${requester} asks for your approval:\n\n${approval.title}`,
    approval.description,
    approval.link ? `Link: ${approval.link}` : null,
    metadata ? `Details:\n${metadata}` : null,
    advice.length > 0 ? advice.join('\n') : null,
    `Review and decide (this link works once, for ${validFor}):\n${decisionUrl}`,
    `The request itself times out at ${approval.expiresAt.toISOString()}.\nOpening the link changes nothing; you decide on the page it opens.`,
  ];
  const text = paragraphs.filter(Boolean).join('\n\n');
  const href = safeHref(approval.link);
  const html = `<!doctype html><html><body style="font-family:sans-serif;max-width:40em">
<p>${escapeHtml(requester)} asks for your approval:</p>
<h2>${escapeHtml(approval.title)}</h2>
${approval.description ? `<p style="white-space:pre-wrap">${escapeHtml(approval.description)}</p>` : ''}
${href ? `<p>Link: <a href="${escapeHtml(href)}">${escapeHtml(approval.link)}</a></p>` : ''}
${metadata ? `<pre style="background:#f4f4f4;padding:8px">${escapeHtml(metadata)}</pre>` : ''}
${advice.map((line) => `<p style="border-left:3px solid #8250df;padding-left:8px">${escapeHtml(line)}</p>`).join('\n')}
<p><a href="${escapeHtml(decisionUrl)}" style="display:inline-block;padding:10px 16px;background:#1a7f37;color:#fff;text-decoration:none;border-radius:4px">Review and decide</a></p>
<p style="color:#555">This link works once, for ${escapeHtml(validFor)}. Opening it changes nothing; you decide on the page it opens.</p>
</body></html>`;
  return { to: input.to, subject, text, html };
}

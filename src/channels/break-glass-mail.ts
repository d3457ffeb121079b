import { formatUtc, requesterWords } from '../core/approval-facts.js';
import { NOTIFICATION_EVENTS } from '../core/audit.js';
import type { BreakGlassReview } from '../core/break-glass.js';
import { html } from '../html.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { MailMessage } from '../ports.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import { findBreakGlassReview } from '../store/break-glass.js';

interface BreakGlassMail {
  readonly to: string;
  readonly title: string;
  readonly requester: string | null;
  readonly review: BreakGlassReview;
  readonly reviewUrl: string;
  readonly approvalId: string;
  readonly reminder: boolean;
}

/** The mail to someone a break-glass skipped: what happened, why, and what to do by when. */
export function renderBreakGlassMail(mail: BreakGlassMail): MailMessage {
  const { review } = mail;
  const due = formatUtc(review.dueAt);
  const subject = `${mail.reminder ? 'Overdue review: ' : ''}Break-glass: ${mail.title}`.slice(0, 200);
  const what = `${review.brokenBy} approved "${mail.title}" (asked by ${requesterWords(mail.requester)}) at once by break-glass at ${formatUtc(review.brokenAt)}, without the gate you were asked in.`;
  const ask = mail.reminder
    ? `Its review was due ${due} and is still open: confirm it or flag it now.`
    : `Please review it by ${due}: confirm it, or flag it if it should not have happened.`;
  const how = `Review: ${mail.reviewUrl} (or: signoff break-glass review ${mail.approvalId} --confirm | --flag --comment "…")`;
  const text = [what, `Reason: ${review.reason}`, ask, how].join('\n\n');
  const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5">
<p>${what}</p><p><strong>Reason:</strong> ${review.reason}</p><p>${ask}</p>
<p><a href="${mail.reviewUrl}">Review it</a> or run <code>signoff break-glass review ${mail.approvalId} --confirm</code> (or <code>--flag</code>).</p>
</body></html>`;
  return { to: mail.to, subject, text, html: body.toString() };
}

/** Sends the break-glass notice, and its reminder only while the review is still open. */
export function createBreakGlassMailHandler(services: Services): OutboxHandler<'break-glass-mail'> {
  return {
    events: NOTIFICATION_EVENTS,
    recipient: ({ payload }) => ({ channel: 'email', to: payload.to }),
    async deliver({ payload: { approvalId, to, reminder } }) {
      const approval = await findApproval(services.db, approvalId);
      const review = await findBreakGlassReview(services.db, approvalId);
      if (!approval || !review) return { skipped: 'no break-glass to review' };
      if (reminder && review.status !== 'open') return { skipped: `the review is ${review.status}` };
      await services.mailer.send(
        renderBreakGlassMail({
          to,
          title: approval.title,
          requester: approval.requester,
          review,
          reviewUrl: `${services.config.publicUrl}/approvals/${approvalId}`,
          approvalId,
          reminder,
        }),
      );
      return { channel: 'email', to, reminder };
    },
  };
}

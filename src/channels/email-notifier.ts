import { issueLink } from '../approvals/links.js';
import { NOTIFICATION_EVENTS } from '../core/audit.js';
import { waitingStage } from '../core/stages.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import { runUnitOfWork } from '../unit-of-work/context.js';
import { renderApprovalMail } from './email.js';

/** Sends the approval mail: a fresh one-time link is made at delivery, so no token waits in the outbox. */
export function createEmailNotifier(services: Services): OutboxHandler<'email'> {
  return {
    events: NOTIFICATION_EVENTS,
    recipient: ({ payload }) => ({ channel: 'email', to: payload.approver }),
    async deliver({ payload: { approvalId, stage, approver, renewed, reminder, forApprover } }) {
      const found = await findApproval(services.db, approvalId);
      const now = services.now();
      const waiting = waitingStage(found, stage, { now });
      if ('skipped' in waiting) return waiting;
      const { approval } = waiting;
      if (approval.decisions.some((d) => d.stage === stage && d.actor === approver))
        return { skipped: 'approver has already decided' };
      const link = await runUnitOfWork(services, (unit) => issueLink(unit, approval, stage, approver), {
        now,
      });
      await services.mailer.send(
        renderApprovalMail({
          approval,
          stage,
          to: approver,
          decisionUrl: link.url,
          linkExpiresAt: link.expiresAt,
          now,
          renewed,
          reminder,
          forApprover,
          instanceName: services.config.instanceName,
        }),
      );
      return { channel: 'email', to: approver, stage, linkExpiresAt: link.expiresAt.toISOString() };
    },
  };
}

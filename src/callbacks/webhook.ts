import { Webhook } from 'standardwebhooks';
import { CALLBACK_EVENTS } from '../core/audit.js';
import { SignoffError } from '../core/errors.js';
import { PermanentDeliveryError, parseRetryAfter, RetryAfterError } from '../outbox/errors.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';

/**
 * POSTs an event to the approval's webhook, signed per Standard Webhooks. The outbox
 * row's id is the `webhook-id`, so every retry carries the same one. Only 2xx counts.
 */
export function createWebhookResumer(services: Services): OutboxHandler<'webhook'> {
  return {
    events: CALLBACK_EVENTS,
    // Readers of an approval must not learn an internal network's answers through its audit trail.
    errorsInAudit: false,
    async deliver({ id, payload: event }) {
      const approval = await findApproval(services.db, event.approvalId);
      const callback = approval?.callback;
      if (callback?.type !== 'webhook')
        throw new PermanentDeliveryError('The approval has no webhook callback.');
      // Webhook URLs often carry a token in their path or query: errors and audit name the origin only.
      const target = new URL(callback.url).origin;
      const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
      const sentAt = services.now();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'signoff-webhook/1',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      };
      if (callback.secret) headers['webhook-signature'] = new Webhook(callback.secret).sign(id, sentAt, body);
      let answer: { status: number; retryAfter: string | undefined };
      try {
        answer = await services.egress.send(callback.url, { method: 'POST', headers, body });
      } catch (error) {
        // The address may have changed since create: a refused target stays refused.
        if (error instanceof SignoffError && error.code === 'callback_not_allowed')
          throw new PermanentDeliveryError(error.message, { cause: error });
        throw error;
      }
      const { status } = answer;
      const retryAfterMs = parseRetryAfter(answer.retryAfter, services.now());
      if ((status === 429 || status === 503) && retryAfterMs !== undefined)
        throw new RetryAfterError(
          `Webhook at ${target} answered HTTP ${status}; it asks to retry later.`,
          retryAfterMs,
        );
      if (status < 200 || status > 299)
        throw new SignoffError('upstream_failed', `Webhook at ${target} answered HTTP ${status}.`);
      // Delivered means 2xx; which one is nobody's business on the audit trail.
      return { type: event.type, target };
    },
  };
}

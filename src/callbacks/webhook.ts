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
      let response: Response;
      try {
        response = await fetch(callback.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(services.config.httpTimeoutMs),
        });
      } catch (error) {
        if (error instanceof DOMException && error.name === 'TimeoutError')
          throw new SignoffError('upstream_timeout', `Webhook at ${target} did not answer in time.`, {
            cause: error,
          });
        throw new SignoffError('upstream_failed', `Webhook at ${target} could not be reached.`, {
          cause: error,
        });
      }
      await response.body?.cancel();
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), services.now());
      if ((response.status === 429 || response.status === 503) && retryAfterMs !== undefined)
        throw new RetryAfterError(
          `Webhook at ${target} answered HTTP ${response.status}; it asks to retry later.`,
          retryAfterMs,
        );
      if (response.status < 200 || response.status > 299)
        throw new SignoffError('upstream_failed', `Webhook at ${target} answered HTTP ${response.status}.`);
      return { type: event.type, target, status: response.status };
    },
  };
}

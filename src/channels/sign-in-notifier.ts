import { NOTIFICATION_EVENTS } from '../core/audit.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { Services } from '../services.js';
import { issueSignInLink } from '../sessions/web-sessions.js';
import { renderSignInMail } from './sign-in-mail.js';

/**
 * Sends the web sign-in mail. The link is made at delivery, as an approval mail's is, so no
 * token waits in the outbox and the link's minutes start when it is sent. A request older than
 * a link's lifetime is dropped: its asker has asked again or given up, and a link arriving
 * much later would only puzzle them.
 */
export function createSignInMailHandler(services: Services): OutboxHandler<'sign-in-mail'> {
  const lifetimeMs = services.config.signInLinkTtlMs;
  return {
    events: NOTIFICATION_EVENTS,
    recipient: ({ payload }) => ({ channel: 'email', to: payload.email }),
    async deliver({ payload: { email }, createdAt }) {
      if (services.now().getTime() - createdAt.getTime() >= lifetimeMs)
        return { skipped: 'asked longer ago than a sign-in link lasts' };
      const link = await issueSignInLink(services, email);
      await services.mailer.send(renderSignInMail({ to: email, signInUrl: link.url, lifetimeMs }));
      return { channel: 'email', to: email, linkExpiresAt: link.expiresAt.toISOString() };
    },
  };
}

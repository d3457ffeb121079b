/**
 * Checked by `npm run typecheck`, not run: the outbox registry must name a handler for every
 * kind, and a handler's payload must be its own kind's. Each `@ts-expect-error` below fails
 * the typecheck the day the mistake under it starts to compile.
 */
import { CALLBACK_EVENTS } from '../../src/core/audit.js';
import type { OutboxHandler, OutboxHandlers } from '../../src/outbox/handler.js';

const quiet = { events: CALLBACK_EVENTS, deliver: async () => ({ silent: true }) };

// @ts-expect-error: no handler for `timer`, so the registry does not compile.
export const missingKind: OutboxHandlers = {
  email: quiet,
  webhook: quiet,
  resume: quiet,
  heartbeat: quiet,
  review: quiet,
};

export const wrongPayload: OutboxHandler<'email'> = {
  events: CALLBACK_EVENTS,
  async deliver({ payload }) {
    // @ts-expect-error: an email's payload has no `sequence` (a heartbeat's has).
    return { sequence: payload.sequence };
  },
};

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { waitAs } from '../../../approvals/as-principal.js';
import { loadApprovalView } from '../../../approvals/view.js';
import { parseDuration } from '../../../core/duration.js';
import { SignoffError } from '../../../core/errors.js';
import { DURATION_HINT } from '../../../policies/spec.js';
import { principalOf } from '../../auth.js';
import { ApprovalView, errorResponses, GUARDED } from '../../responses.js';
import { ApprovalParams, WaitQuery } from '../../schemas.js';
import { type ApprovalRoutes, security, tags } from './shared.js';

/** GET /v1/approvals/{id}/wait: a long poll, ended early by the client leaving or the server closing. */
export function registerWait({ app, services, can }: ApprovalRoutes) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // How to stop each held long poll, so that shutting down ends them all. A set, not a listener
  // each on one shared signal: an EventTarget walks all its listeners to add or remove one,
  // which thousands of held long polls make slow (and past ten Node warns of a leak).
  const waiting = new Set<() => void>();
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const stopWaiting of waiting) stopWaiting();
  });
  api.get(
    '/v1/approvals/:id/wait',
    {
      schema: {
        summary: 'Wait for a change (long poll)',
        description:
          'Answers the approval as soon as it is no longer pending, or after `timeout` (30s by default, 60s at most) as it is then.',
        tags,
        security,
        params: ApprovalParams,
        querystring: WaitQuery,
        response: { 200: ApprovalView, ...errorResponses([...GUARDED, 'invalid_input', 'not_found']) },
      },
      preValidation: can('approvals:read'),
    },
    async (request) => {
      const requested = request.query.timeout === undefined ? 30_000 : parseDuration(request.query.timeout);
      if (requested === undefined)
        throw new SignoffError('invalid_input', `timeout must be ${DURATION_HINT}.`);
      // Stop waiting when the client goes away or the server shuts down (a deploy must not hang 60 s).
      const aborted = new AbortController();
      const stopWaiting = () => aborted.abort();
      request.raw.once('close', stopWaiting);
      waiting.add(stopWaiting);
      // A wait that arrives while the server is already shutting down must not wait out its time,
      // nor one whose client left before it got here (its close has come and gone).
      if (closing || request.raw.destroyed) stopWaiting();
      try {
        const approval = await waitAs(
          services,
          principalOf(request),
          request.params.id,
          requested,
          aborted.signal,
        );
        return await loadApprovalView(services.db, approval);
      } finally {
        waiting.delete(stopWaiting);
        // The request closes once it is answered: aborting then would build an AbortError for nobody.
        request.raw.off('close', stopWaiting);
      }
    },
  );
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Authenticator, hasUnrestrictedPermission } from '../../auth/principal.js';
import { SignoffError } from '../../core/errors.js';
import { isOutboxKind } from '../../outbox/kinds.js';
import type { Services } from '../../services.js';
import { listOutbox } from '../../store/outbox.js';
import { principalOf, requirePermission } from '../auth.js';
import { errorResponses, GUARDED, OutboxList } from '../responses.js';
import { OutboxQuery } from '../schemas.js';

/** Operators see what is queued and what was dead-lettered. Payloads stay inside. */
export function registerOutboxRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/outbox',
    {
      schema: {
        summary: 'List outbox messages (dead letters by default)',
        description: 'Needs an unrestricted admin credential. Payloads stay inside.',
        tags: ['operations'],
        security: [{ bearer: [] }],
        querystring: OutboxQuery,
        response: { 200: OutboxList, ...errorResponses([...GUARDED, 'invalid_input']) },
      },
      preValidation: requirePermission(auth, 'admin'),
    },
    async (request) => {
      if (!hasUnrestrictedPermission(principalOf(request), 'admin'))
        throw new SignoffError('forbidden', 'Only an unrestricted admin credential may read the outbox.');
      const rows = await listOutbox(services.db, request.query.status ?? 'dead', request.query.limit ?? 50);
      return {
        items: rows.map((r) => ({
          id: r.id,
          approvalId: r.approval_id,
          kind: r.kind,
          status: r.status,
          attempts: Number(r.attempts),
          lastError: r.last_error,
          createdAt: new Date(Number(r.created_at)).toISOString(),
          nextAttemptAt: new Date(Number(r.next_attempt_at)).toISOString(),
          deliveredAt: r.delivered_at === null ? null : new Date(Number(r.delivered_at)).toISOString(),
          ...(r.status === 'pending' &&
            !isOutboxKind(r.kind) && {
              warning: `This release does not deliver "${r.kind}" messages: an instance of the release that queued it will.`,
            }),
        })),
      };
    },
  );
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { type Authenticator, hasUnrestrictedPermission } from '../../auth/principal.js';
import { SignoffError } from '../../core/errors.js';
import { listOutboxEntries } from '../../outbox/listing.js';
import type { Services } from '../../services.js';
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
      return {
        items: await listOutboxEntries(services, request.query.status ?? 'dead', request.query.limit ?? 50),
      };
    },
  );
}

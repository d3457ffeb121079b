import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { grantHandlerOf, grantView, listGrants, revokeGrant } from '../../approvals/grant-listing.js';
import type { Authenticator } from '../../auth/principal.js';
import { SINGLE_LINE } from '../../input-rules.js';
import type { Services } from '../../services.js';
import { principalOf, requirePermission } from '../auth.js';
import { errorResponses, GrantList, GrantView, GUARDED } from '../responses.js';

const GrantParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, format: SINGLE_LINE }) });
const tags = ['grants'];
const security = [{ bearer: [] }];

/** Standing grants: listed by whom they concern, ended at once by their granter or requester. */
export function registerGrantRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/v1/grants',
    {
      schema: {
        summary: 'List standing grants',
        description:
          'The grants the caller made and those for their requests, newest first (every grant, for an unrestricted admin).',
        tags,
        security,
        response: { 200: GrantList, ...errorResponses(GUARDED) },
      },
      preValidation: requirePermission(auth, 'approvals:read'),
    },
    async (request) => {
      const now = services.now();
      const grants = await listGrants(services, grantHandlerOf(principalOf(request)));
      return { items: grants.map((grant) => grantView(grant, now)) };
    },
  );

  api.post(
    '/v1/grants/:id/revoke',
    {
      schema: {
        summary: 'End a standing grant at once',
        description:
          'Its granter, its requester or an unrestricted admin may. Revoking one already ended changes nothing.',
        tags,
        security,
        params: GrantParams,
        response: { 200: GrantView, ...errorResponses([...GUARDED, 'not_found']) },
      },
      preValidation: requirePermission(auth, ['approvals:decide', 'approvals:create']),
    },
    async (request) => {
      const grant = await revokeGrant(services, grantHandlerOf(principalOf(request)), request.params.id);
      return grantView(grant, services.now());
    },
  );
}

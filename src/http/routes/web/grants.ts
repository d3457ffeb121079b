import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type GrantHandler, listGrants, revokeGrant } from '../../../approvals/grant-listing.js';
import type { Services } from '../../../services.js';
import { renderGrantsPage } from '../../web/grants-page.js';
import { Csrf, IdParams, Line } from './forms.js';
import { HTML, type WebRoom } from './room.js';

const RevokedQuery = Type.Object({ revoked: Type.Optional(Line(64)) }, { additionalProperties: false });
const CsrfBody = Type.Object({ _csrf: Csrf }, { additionalProperties: false });

/** The web app's standing grants: a page listing them, and Revoke. */
export function registerWebGrantRoutes(app: FastifyInstance, services: Services, room: WebRoom) {
  // A person signed in on the web: the grants they made or that are for them, never all.
  const handler = (request: FastifyRequest): GrantHandler => {
    const { actor } = room.personOf(request);
    return { actor, admin: false, name: actor };
  };
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/grants',
    { schema: { hide: true, querystring: RevokedQuery }, preHandler: room.signedIn },
    async (request, reply) => {
      const grants = await listGrants(services, handler(request));
      // Only a grant of the list that did end is said to be revoked.
      const revoked = grants.find((g) => g.id === request.query.revoked && g.revokedAt !== null);
      return reply.type(HTML).send(
        renderGrantsPage({
          grants,
          viewer: room.viewerOf(request, reply),
          now: services.now(),
          revoked: revoked?.id,
        }),
      );
    },
  );

  api.post(
    '/grants/:id/revoke',
    {
      schema: { hide: true, params: IdParams, body: CsrfBody },
      // Signed in before the body is checked: a stranger learns nothing from a 400.
      preValidation: room.signedIn,
      preHandler: room.checkCsrf,
    },
    async (request, reply) => {
      const grant = await revokeGrant(services, handler(request), request.params.id);
      return reply.redirect(`/grants?revoked=${encodeURIComponent(grant.id)}`, 303);
    },
  );
}

import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { renderReference } from './reference-page.js';

/**
 * Describes the API as OpenAPI 3.1, from the routes' own schemas. Registered before any
 * route, so it sees them all; a route that is not for API clients (a page, a form post)
 * says `hide: true`.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'signoff',
        version,
        description:
          'Self-hosted approval gateway. Errors answer `{"error": {"code", "message", "details"?, "requestId"}}`; the codes are listed per response and explained in docs/errors.md.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      tags: [
        { name: 'approvals', description: 'Ask for approvals, decide, wait, read the audit trail.' },
        { name: 'policies', description: 'The named policies and how their AI stages fare.' },
        { name: 'grants', description: 'Standing grants: an approval that allows the same action again.' },
        {
          name: 'delegations',
          description: 'Delegation while away: someone decides in your place, recorded as theirs for you.',
        },
        { name: 'operations', description: 'Health, readiness, metrics and the outbox.' },
        { name: 'integrations', description: 'Messages from AWS.' },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key (sk_…) or an access token of a configured issuer.',
          },
          metricsToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'SIGNOFF_METRICS_TOKEN (only for /metrics).',
          },
        },
      },
    },
  });
}

/** GET /openapi.json (the document) and GET /docs (the same, rendered as one page). */
export function registerReferenceRoutes(app: FastifyInstance): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  let page: string | undefined;
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => {
    page ??= renderReference(app.swagger() as Parameters<typeof renderReference>[0]);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      )
      .header('referrer-policy', 'no-referrer')
      .send(page);
  });
}

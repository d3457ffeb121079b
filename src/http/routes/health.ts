import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Services } from '../../services.js';
import { errorResponses, HealthStatus } from '../responses.js';

/** Liveness and readiness; readiness includes a database round trip. */
export function registerHealthRoutes(app: FastifyInstance, services: Services) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['operations'];
  api.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags,
        response: { 200: HealthStatus, ...errorResponses([]) },
      },
    },
    async () => ({ status: 'ok' }),
  );
  api.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the database answers',
        tags,
        // The database's absence is this route's answer, not an error.
        response: { ...errorResponses([]), 200: HealthStatus, 503: HealthStatus },
      },
    },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(services.db);
        return { status: 'ready' };
      } catch (error) {
        services.logger.error({ err: error }, 'readiness check failed');
        return reply.status(503).send({ status: 'unavailable' });
      }
    },
  );
}

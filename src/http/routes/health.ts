import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Services } from '../../services.js';

/** Liveness and readiness; readiness includes a database round trip. */
export function registerHealthRoutes(app: FastifyInstance, services: Services) {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(services.db);
      return { status: 'ready' };
    } catch (error) {
      services.logger.error({ err: error }, 'readiness check failed');
      return reply.status(503).send({ status: 'unavailable' });
    }
  });
}

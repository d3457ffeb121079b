import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../auth/principal.js';
import type { Services } from '../../services.js';
import { listOutbox } from '../../store/outbox.js';
import { requirePermission } from '../auth.js';
import { OutboxQuery } from '../schemas.js';

/** Operators see what is queued and what was dead-lettered. Payloads stay inside. */
export function registerOutboxRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  app.get<{ Querystring: OutboxQuery }>(
    '/v1/outbox',
    { schema: { querystring: OutboxQuery }, preHandler: requirePermission(auth, 'admin') },
    async (request) => {
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
        })),
      };
    },
  );
}

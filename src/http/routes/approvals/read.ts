import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import { auditTrailAs, listAllAs, listMine, loadPermitted } from '../../../approvals/as-principal.js';
import { loadApprovalView, loadApprovalViews } from '../../../approvals/view.js';
import type { Principal } from '../../../auth/principal.js';
import { SignoffError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import { principalOf } from '../../auth.js';
import { ApprovalList, ApprovalView, AuditList, errorResponses, GUARDED } from '../../responses.js';
import { ApprovalParams, ListQuery } from '../../schemas.js';
import { type ApprovalRoutes, security, tags } from './shared.js';

/** The caller's own lists, for `waiting_for=me` and `requested_by=me`. */
async function listMineView(services: Services, principal: Principal, query: Static<typeof ListQuery>) {
  if (query.waiting_for && query.requested_by)
    throw new SignoffError('invalid_input', 'Give waiting_for=me or requested_by=me, not both.');
  const page = await listMine(services, principal, {
    tab: query.waiting_for ? 'waiting' : 'requested',
    status: query.status,
    cursor: query.cursor,
    limit: query.limit ?? 20,
  });
  return { items: await loadApprovalViews(services.db, page.items), nextCursor: page.nextCursor };
}

/** Reading approvals: the list, and one approval. */
export function registerReads({ app, services, can }: ApprovalRoutes) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/v1/approvals',
    {
      schema: {
        summary: 'List approvals, newest first',
        tags,
        security,
        querystring: ListQuery,
        response: { 200: ApprovalList, ...errorResponses([...GUARDED, 'invalid_input']) },
      },
      preValidation: can('approvals:read'),
    },
    async (request) => {
      const { waiting_for, requested_by } = request.query;
      if (waiting_for || requested_by) return listMineView(services, principalOf(request), request.query);
      const { items, nextCursor } = await listAllAs(services, principalOf(request), {
        status: request.query.status,
        cursor: request.query.cursor,
        limit: request.query.limit ?? 20,
      });
      return { items: await loadApprovalViews(services.db, items), nextCursor };
    },
  );

  api.get(
    '/v1/approvals/:id',
    {
      schema: {
        summary: 'Read an approval',
        tags,
        security,
        params: ApprovalParams,
        response: { 200: ApprovalView, ...errorResponses([...GUARDED, 'invalid_input', 'not_found']) },
      },
      preValidation: can('approvals:read'),
    },
    async (request) =>
      loadApprovalView(
        services.db,
        await loadPermitted(services, principalOf(request), 'approvals:read', request.params.id),
      ),
  );
}

/** GET /v1/approvals/{id}/audit: an approval's audit trail, with its chain. */
export function registerAuditTrail({ app, services, can }: ApprovalRoutes) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/v1/approvals/:id/audit',
    {
      schema: {
        summary: 'Read the audit trail of an approval, oldest first',
        tags,
        security,
        params: ApprovalParams,
        response: { 200: AuditList, ...errorResponses([...GUARDED, 'invalid_input', 'not_found']) },
      },
      preValidation: can('approvals:read'),
    },
    async (request) => {
      const events = await auditTrailAs(services, principalOf(request), request.params.id);
      return {
        items: events.map((e) => ({
          id: e.id,
          type: e.type,
          actor: e.actor,
          data: e.data,
          at: e.at.toISOString(),
          seq: e.seq,
          prevHash: e.prevHash,
          hash: e.hash,
        })),
      };
    },
  );
}

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  actorOf,
  auditTrailAs,
  cancelAs,
  listAllAs,
  listMine,
  loadPermitted,
  requestApprovalAs,
  waitAs,
} from '../../approvals/as-principal.js';
import { decideApproval } from '../../approvals/decide.js';
import { CreateApprovalBody } from '../../approvals/request.js';
import { grantStep, grantTermsOf } from '../../approvals/standing-grants.js';
import { loadApprovalView, loadApprovalViews } from '../../approvals/view.js';
import type { Authenticator, Principal } from '../../auth/principal.js';
import { parseDuration } from '../../core/duration.js';
import { SignoffError } from '../../core/errors.js';
import { approvalView } from '../../core/view.js';
import { DURATION_HINT } from '../../policies/spec.js';
import type { Services } from '../../services.js';
import { principalOf, requirePermission } from '../auth.js';
import { ApprovalList, ApprovalView, AuditList, errorResponses, GUARDED, WITH_BODY } from '../responses.js';
import {
  ApiDecisionBody,
  ApprovalParams,
  CancelBody,
  CreateApprovalHeaders,
  ListQuery,
  WaitQuery,
} from '../schemas.js';

/** An approval this request just created has had no notification to give up on. */
const NOTHING_FAILED_YET = [] as const;

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

/** The /v1/approvals API. */
export function registerApprovalRoutes(
  app: FastifyInstance,
  services: Services,
  auth: readonly Authenticator[],
) {
  // How to stop each held long poll, so that shutting down ends them all. A set, not a listener
  // each on one shared signal: an EventTarget walks all its listeners to add or remove one,
  // which thousands of held long polls make slow (and past ten Node warns of a leak).
  const waiting = new Set<() => void>();
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    for (const stopWaiting of waiting) stopWaiting();
  });
  const can = (permission: Parameters<typeof requirePermission>[1]) => requirePermission(auth, permission);
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['approvals'];
  const security = [{ bearer: [] }];

  api.post(
    '/v1/approvals',
    {
      schema: {
        summary: 'Ask for an approval',
        description:
          'Creates an approval and notifies its approvers. With an Idempotency-Key, a retried create answers 200 with the first approval (header idempotent-replayed: true).',
        tags,
        security,
        body: CreateApprovalBody,
        headers: CreateApprovalHeaders,
        response: {
          201: ApprovalView,
          200: ApprovalView,
          ...errorResponses([
            ...GUARDED,
            ...WITH_BODY,
            'callback_not_allowed',
            'inline_policy_forbidden',
            'policy_not_allowed',
            'idempotency_conflict',
          ]),
        },
      },
      preValidation: can('approvals:create'),
    },
    async (request, reply) => {
      const { approval, created } = await requestApprovalAs(
        services,
        principalOf(request),
        request.body,
        request.headers['idempotency-key'],
      );
      if (created) return reply.status(201).send(approvalView(approval, NOTHING_FAILED_YET));
      reply.header('idempotent-replayed', 'true');
      return reply.status(200).send(await loadApprovalView(services.db, approval));
    },
  );

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

  api.post(
    '/v1/approvals/:id/decisions',
    {
      schema: {
        summary: 'Approve or reject as the credential holder',
        tags,
        security,
        params: ApprovalParams,
        description:
          'With `grant` (an approval only), also allows the same action again for the same requester and gate: `uses` later requests within `for`, each approved as this decider at once. Off unless the operator sets SIGNOFF_GRANT_MAX_USES.',
        body: ApiDecisionBody,
        response: {
          201: ApprovalView,
          ...errorResponses([
            ...GUARDED,
            ...WITH_BODY,
            'not_found',
            'not_approver',
            'self_approval',
            'grant_not_allowed',
            'already_decided',
            'duplicate_decision',
          ]),
        },
      },
      preValidation: can('approvals:decide'),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (!principal.actor)
        throw new SignoffError('not_approver', 'This credential has no identity that could be an approver.');
      await loadPermitted(services, principal, 'approvals:decide', request.params.id);
      const actor = actorOf(principal);
      const { grant } = request.body;
      const approval = await decideApproval(
        services,
        request.params.id,
        {
          actor,
          verdict: request.body.verdict,
          comment: request.body.comment,
          via: request.headers['x-signoff-client'] === 'cli' ? 'cli' : 'api',
          ip: request.ip,
        },
        grant ? { afterDecide: grantStep(services, actor, grantTermsOf(grant)) } : {},
      );
      return reply.status(201).send(await loadApprovalView(services.db, approval));
    },
  );

  api.post(
    '/v1/approvals/:id/cancel',
    {
      schema: {
        summary: 'Call an approval off',
        description: 'Only whoever created it (the same credential or restriction scope), or an admin.',
        tags,
        security,
        params: ApprovalParams,
        body: CancelBody,
        response: {
          200: ApprovalView,
          ...errorResponses([...GUARDED, ...WITH_BODY, 'not_found', 'not_owner', 'already_decided']),
        },
      },
      preValidation: can('approvals:create'),
    },
    async (request) => {
      const principal = principalOf(request);
      const cancelled = await cancelAs(services, principal, request.params.id, request.body.reason);
      return loadApprovalView(services.db, cancelled);
    },
  );

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

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf } from '../../../approvals/as-principal.js';
import { decideApproval } from '../../../approvals/decide.js';
import { isWaitingFor, queryInbox } from '../../../approvals/inbox.js';
import { cancelAsPerson, mayCancelAsPerson } from '../../../approvals/lifecycle.js';
import { pageContextOf } from '../../../approvals/reads.js';
import { grantOffer, grantStep, grantTermsOf } from '../../../approvals/standing-grants.js';
import { SignoffError } from '../../../core/errors.js';
import { APPROVAL_STATUSES } from '../../../core/model.js';
import { SINGLE_LINE } from '../../../input-rules.js';
import type { Services } from '../../../services.js';
import type { WebPerson } from '../../../sessions/web-sessions.js';
import { FORM_INPUT_FIELDS, formInputsOf } from '../../schemas.js';
import { renderApprovalPage } from '../../web/approval-page.js';
import { type BulkOutcome, renderBulkResult } from '../../web/bulk-page.js';
import { streamChanges } from '../../web/event-stream.js';
import { createInboxFeed } from '../../web/inbox-feed.js';
import { renderInbox } from '../../web/inbox-page.js';
import { HTML, type WebRoom } from './room.js';

const Line = (maxLength: number) => Type.String({ maxLength, format: SINGLE_LINE });
const Verdict = Type.Union([Type.Literal('approve'), Type.Literal('reject')]);
const InboxQuery = Type.Object(
  {
    tab: Type.Optional(
      Type.Union([Type.Literal('waiting'), Type.Literal('requested'), Type.Literal('history')]),
    ),
    status: Type.Optional(Type.Union([Type.Literal(''), ...APPROVAL_STATUSES.map((s) => Type.Literal(s))])),
    requester: Type.Optional(Line(320)),
    metadata: Type.Optional(Line(200)),
    q: Type.Optional(Line(200)),
    cursor: Type.Optional(Line(64)),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Line(64) });
const ApprovalQuery = Type.Object(
  { verdict: Type.Optional(Verdict), decided: Type.Optional(Verdict) },
  { additionalProperties: false },
);
const WebDecisionBody = Type.Object(
  {
    _csrf: Type.String({ minLength: 1, maxLength: 200 }),
    verdict: Verdict,
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    // A standing grant, with Approve: an empty count is none.
    grant_uses: Type.Optional(Type.String({ pattern: '^[0-9]{0,4}$' })),
    grant_for: Type.Optional(Line(20)),
    grant_match: Type.Optional(Type.Union([Type.Literal('action'), Type.Literal('tool')])),
  },
  { additionalProperties: false, patternProperties: FORM_INPUT_FIELDS },
);

const CancelForm = Type.Object(
  {
    _csrf: Type.String({ minLength: 1, maxLength: 200 }),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const BulkDecisionBody = Type.Object(
  {
    _csrf: Type.String({ minLength: 1, maxLength: 200 }),
    verdict: Verdict,
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    // A form sends one picked id as a string, several as a list.
    ids: Type.Union([Line(64), Type.Array(Line(64), { minItems: 1, maxItems: 100 })]),
  },
  { additionalProperties: false },
);

const PAGE_SIZE = 25;

/** Whether a signed-in person holds an unrestricted admin grant. */
function isAdmin(person: WebPerson): boolean {
  return person.grants.some((g) => !g.metadata && g.permissions.has('admin'));
}

/**
 * The inbox at `/`, approval pages, deciding through the one decision path as the signed-in
 * person, and the event streams that keep both live.
 */
export function registerInboxRoutes(
  app: FastifyInstance,
  services: Services,
  room: WebRoom,
  streams: Set<FastifyReply>,
) {
  const { signedIn, checkCsrf, personOf, viewerOf, loadVisible } = room;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(
    '/',
    { schema: { hide: true, querystring: InboxQuery }, preHandler: signedIn },
    async (request, reply) => {
      const person = actorOf(personOf(request));
      const { tab = 'waiting', status, requester, metadata, q, cursor } = request.query;
      const query = {
        tab,
        status: status || undefined,
        requester: requester || undefined,
        metadata: metadata || undefined,
        search: q || undefined,
        cursor,
        limit: PAGE_SIZE,
      };
      const page = await queryInbox(services.db, person, query);
      const waiting =
        tab === 'waiting' && !status && !requester && !metadata && !q && !cursor
          ? page
          : await queryInbox(services.db, person, { tab: 'waiting', limit: PAGE_SIZE });
      const waitingCount = `${waiting.items.length}${waiting.nextCursor ? '+' : ''}`;
      return reply.type(HTML).send(
        renderInbox(
          {
            query,
            items: page.items,
            nextCursor: page.nextCursor,
            waitingCount,
            grants: services.config.grantLimits.maxUses > 0,
          },
          viewerOf(request, reply),
        ),
      );
    },
  );

  api.get(
    '/approvals/:id',
    { schema: { hide: true, params: IdParams, querystring: ApprovalQuery }, preHandler: signedIn },
    async (request, reply) => {
      const person = personOf(request);
      const approval = await loadVisible(person, request.params.id);
      return reply.type(HTML).send(
        renderApprovalPage({
          approval,
          context: await pageContextOf(services, approval.id),
          viewer: viewerOf(request, reply),
          waitingForViewer: isWaitingFor(approval, actorOf(person)),
          preselect: request.query.verdict,
          decided: request.query.decided,
          grant: grantOffer(services, approval, person),
          mayCancel: mayCancelAsPerson(approval, actorOf(person), isAdmin(person)),
        }),
      );
    },
  );

  // The one decision path, as the signed-in person: the same approver, self-approval and
  // quorum rules as the API and the links.
  api.post(
    '/approvals/:id/decisions',
    { schema: { hide: true, params: IdParams, body: WebDecisionBody }, preHandler: [signedIn, checkCsrf] },
    async (request, reply) => {
      const person = personOf(request);
      await loadVisible(person, request.params.id);
      const { verdict, grant_uses, grant_for, grant_match } = request.body;
      const grant =
        verdict === 'approve' && grant_uses
          ? grantTermsOf({ uses: Number(grant_uses), for: grant_for ?? '', match: grant_match })
          : undefined;
      const actor = actorOf(person);
      await decideApproval(
        services,
        request.params.id,
        {
          actor,
          verdict,
          comment: request.body.comment?.trim() || undefined,
          formInputs: formInputsOf(request.body, request.headers['content-type']),
          via: 'ui',
          ip: request.ip,
        },
        grant ? { afterDecide: grantStep(services, actor, grant) } : {},
      );
      return reply.redirect(`/approvals/${request.params.id}?decided=${verdict}`, 303);
    },
  );

  // Several at once, from the inbox: each through the one decision path on its own, so each can
  // be refused on its own (self-approval, already decided) while the others are recorded.
  api.post(
    '/approvals/decisions',
    { schema: { hide: true, body: BulkDecisionBody }, preValidation: signedIn, preHandler: checkCsrf },
    async (request, reply) => {
      const person = personOf(request);
      const actor = actorOf(person);
      const { verdict } = request.body;
      const comment = request.body.comment?.trim() || undefined;
      const outcomes: BulkOutcome[] = [];
      for (const id of new Set([request.body.ids].flat())) {
        let title: string | undefined;
        try {
          title = (await loadVisible(person, id)).title;
          const decided = await decideApproval(services, id, {
            actor,
            verdict,
            comment,
            via: 'ui',
            ip: request.ip,
          });
          outcomes.push({ id, title, status: decided.status });
        } catch (error) {
          if (!(error instanceof SignoffError)) throw error;
          outcomes.push({ id, title, refused: { code: error.code, message: error.message } });
        }
      }
      return reply.type(HTML).send(renderBulkResult(verdict, outcomes, viewerOf(request, reply)));
    },
  );

  // The requester (or an admin) calls it off, with a reason; whatever waits on it is told.
  api.post(
    '/approvals/:id/cancel',
    {
      schema: { hide: true, params: IdParams, body: CancelForm },
      preValidation: signedIn,
      preHandler: checkCsrf,
    },
    async (request, reply) => {
      const person = personOf(request);
      await loadVisible(person, request.params.id);
      await cancelAsPerson(
        services,
        actorOf(person),
        isAdmin(person),
        request.params.id,
        request.body.reason?.trim() || undefined,
      );
      return reply.redirect(`/approvals/${request.params.id}`, 303);
    },
  );

  const feed = createInboxFeed(services);

  api.get(
    '/approvals/:id/events',
    { schema: { hide: true, params: IdParams }, preHandler: signedIn },
    async (request, reply) => {
      const approval = await loadVisible(personOf(request), request.params.id);
      streamChanges(streams, request, reply, (send) => services.changes.subscribe(approval.id, send));
    },
  );

  // The inbox follows the person, not the approvals on the page: new work appears, decided
  // work moves to History, and the tab's count follows.
  api.get('/events', { schema: { hide: true }, preHandler: signedIn }, async (request, reply) => {
    const person = actorOf(personOf(request));
    streamChanges(streams, request, reply, (send) => feed.follow(person, send));
  });
}

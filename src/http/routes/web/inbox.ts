import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf } from '../../../approvals/as-principal.js';
import { isWaitingFor, queryInbox } from '../../../approvals/inbox.js';
import { mayCancelAsPerson } from '../../../approvals/lifecycle.js';
import { pageContextOf } from '../../../approvals/reads.js';
import { grantOffer } from '../../../approvals/standing-grants.js';
import { APPROVAL_STATUSES } from '../../../core/model.js';
import type { Services } from '../../../services.js';
import { renderApprovalPage } from '../../web/approval-page.js';
import { streamChanges } from '../../web/event-stream.js';
import { createInboxFeed } from '../../web/inbox-feed.js';
import { renderInbox } from '../../web/inbox-page.js';
import { registerWebDecisionRoutes } from './decisions.js';
import { IdParams, Line, Verdict } from './forms.js';
import { HTML, isAdmin, type WebRoom } from './room.js';

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
const ApprovalQuery = Type.Object(
  { verdict: Type.Optional(Verdict), decided: Type.Optional(Verdict) },
  { additionalProperties: false },
);

const PAGE_SIZE = 25;

/** GET /: what waits for the person, what they asked for, and their history, with filters. */
function registerInboxPage(
  app: FastifyInstance,
  services: Services,
  { signedIn, personOf, viewerOf }: WebRoom,
) {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
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
}

/** GET /approvals/{id}: one approval in full, with its decision form while it waits for the person. */
function registerApprovalPage(app: FastifyInstance, services: Services, room: WebRoom) {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/approvals/:id',
      { schema: { hide: true, params: IdParams, querystring: ApprovalQuery }, preHandler: room.signedIn },
      async (request, reply) => {
        const person = room.personOf(request);
        const approval = await room.loadVisible(person, request.params.id);
        return reply.type(HTML).send(
          renderApprovalPage({
            approval,
            context: await pageContextOf(services, approval.id),
            viewer: room.viewerOf(request, reply),
            waitingForViewer: isWaitingFor(approval, actorOf(person)),
            preselect: request.query.verdict,
            decided: request.query.decided,
            grant: grantOffer(services, approval, person),
            mayCancel: mayCancelAsPerson(approval, actorOf(person), isAdmin(person)),
          }),
        );
      },
    );
}

/** The event streams that keep an approval's page and the inbox live. */
function registerEventStreams(
  app: FastifyInstance,
  services: Services,
  { signedIn, personOf, loadVisible }: WebRoom,
  streams: Set<FastifyReply>,
) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
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
  registerInboxPage(app, services, room);
  registerApprovalPage(app, services, room);
  registerWebDecisionRoutes(app, services, room);
  registerEventStreams(app, services, room, streams);
}

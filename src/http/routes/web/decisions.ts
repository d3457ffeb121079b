import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../../../approvals/as-principal.js';
import { decideApproval } from '../../../approvals/decide.js';
import { cancelAsPerson } from '../../../approvals/lifecycle.js';
import { grantStep, grantTermsOf } from '../../../approvals/standing-grants.js';
import { SignoffError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import { FORM_INPUT_FIELDS, formInputsOf } from '../../schemas.js';
import { type BulkOutcome, renderBulkResult } from '../../web/bulk-page.js';
import { Csrf, IdParams, Line, Verdict } from './forms.js';
import { HTML, isAdmin, type WebRoom } from './room.js';

const WebDecisionBody = Type.Object(
  {
    _csrf: Csrf,
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
  { _csrf: Csrf, reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

const BulkDecisionBody = Type.Object(
  {
    _csrf: Csrf,
    verdict: Verdict,
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
    // A form sends one picked id as a string, several as a list.
    ids: Type.Union([Line(64), Type.Array(Line(64), { minItems: 1, maxItems: 100 })]),
  },
  { additionalProperties: false },
);

/**
 * POST /approvals/{id}/decisions: the one decision path, as the signed-in person, with the same
 * approver, self-approval and quorum rules as the API and the links.
 */
function registerDecide(
  app: FastifyInstance,
  services: Services,
  { signedIn, checkCsrf, personOf, loadVisible }: WebRoom,
) {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .post(
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
}

/**
 * POST /approvals/decisions: several at once, from the inbox. Each goes through the one decision
 * path on its own, so each can be refused on its own (self-approval, already decided) while the
 * others are recorded.
 */
function registerBulkDecide(app: FastifyInstance, services: Services, room: WebRoom) {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/approvals/decisions',
    {
      schema: { hide: true, body: BulkDecisionBody },
      preValidation: room.signedIn,
      preHandler: room.checkCsrf,
    },
    async (request, reply) => {
      const person = room.personOf(request);
      const actor = actorOf(person);
      const { verdict } = request.body;
      const comment = request.body.comment?.trim() || undefined;
      const outcomes: BulkOutcome[] = [];
      for (const id of new Set([request.body.ids].flat())) {
        let title: string | undefined;
        try {
          title = (await room.loadVisible(person, id)).title;
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
      return reply.type(HTML).send(renderBulkResult(verdict, outcomes, room.viewerOf(request, reply)));
    },
  );
}

/** POST /approvals/{id}/cancel: the requester (or an admin) calls it off, with a reason; whatever waits on it is told. */
function registerCancel(app: FastifyInstance, services: Services, room: WebRoom) {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/approvals/:id/cancel',
    {
      schema: { hide: true, params: IdParams, body: CancelForm },
      preValidation: room.signedIn,
      preHandler: room.checkCsrf,
    },
    async (request, reply) => {
      const person = room.personOf(request);
      await room.loadVisible(person, request.params.id);
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
}

/** The web app's form posts that change an approval: decide one, decide several, cancel. */
export function registerWebDecisionRoutes(app: FastifyInstance, services: Services, room: WebRoom) {
  registerDecide(app, services, room);
  registerBulkDecide(app, services, room);
  registerCancel(app, services, room);
}

import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  decideByLink,
  type OpenedLink,
  openLink,
  recordLinkOpened,
  renewLink,
  spentLinkError,
} from '../../approvals/links.js';
import { pageContextOf } from '../../approvals/reads.js';
import { SignoffError } from '../../core/errors.js';
import { approvalView } from '../../core/view.js';
import type { Services } from '../../services.js';
import { createErrorHandler, type ErrorRenderer, errorBody, HTTP_STATUS } from '../errors.js';
import { createGuessLimiter } from '../guess-limiter.js';
import {
  renderDecidedPage,
  renderDecisionPage,
  renderErrorPage,
  renderRenewedPage,
  renderSpentLinkPage,
  setPageHeaders,
  wantsJson,
} from '../pages.js';
import { ApprovalView, errorResponses, SpentLinkAnswer, WITH_BODY } from '../responses.js';
import { DecisionBody, formInputsOf, PageQuery, TokenParams } from '../schemas.js';

/**
 * A link's holder is an approver, not the waiting side: why the operator's mail server
 * refused someone else's mail is not theirs to read.
 */
const LINK_HOLDERS_SEE_NO_FAILURES = [] as const;

function linkJson(opened: OpenedLink) {
  return {
    link: {
      approver: opened.link.approver,
      stage: opened.link.stage,
      state: opened.state,
      expiresAt: new Date(Number(opened.link.expires_at)).toISOString(),
      renewable: opened.renewable,
    },
    approval: approvalView(opened.approval, LINK_HOLDERS_SEE_NO_FAILURES),
  };
}

async function spentLink(
  services: Services,
  reply: FastifyReply,
  request: FastifyRequest,
  opened: OpenedLink,
  token: string,
  now: Date,
) {
  if (opened.state === 'usable') throw new Error('spentLink called for a usable link');
  const { code, message } = spentLinkError(opened.state);
  reply.status(HTTP_STATUS[code]);
  if (wantsJson(request))
    return reply.send({ ...errorBody(new SignoffError(code, message), request.id), ...linkJson(opened) });
  const context = { ...(await pageContextOf(services, opened.approval.id)), now };
  return reply.type('text/html; charset=utf-8').send(renderSpentLinkPage(opened, message, token, context));
}

/** How errors on decision pages look: a page, or JSON when asked for; both with the page headers. */
const renderPageError: ErrorRenderer = (request, reply, error, status) => {
  setPageHeaders(reply).status(status);
  if (wantsJson(request)) return reply.send(errorBody(error, request.id));
  return reply
    .type('text/html; charset=utf-8')
    .send(renderErrorPage(status === 404 ? 'Link not found' : 'Cannot do that', error.message));
};

/**
 * The scope's own answers: errors as pages (or JSON when asked for), an address that keeps
 * trying unknown links throttled, unknown paths under /d, form bodies and the page headers.
 */
async function setUpDecisionScope(app: FastifyInstance, services: Services) {
  const handleError = createErrorHandler(renderPageError);
  const guesses = createGuessLimiter({
    max: services.config.linkRateLimit,
    windowMs: 60_000,
    now: () => services.now().getTime(),
  });
  // Set before the not-found handler, which takes the error handler in force when it is set.
  app.setErrorHandler((error, request, reply) => {
    if (!(error instanceof SignoffError && error.code === 'link_not_found'))
      return handleError(error, request, reply);
    // Only a token that matches nothing counts against the address: valid links keep working.
    const waitMs = guesses.fail(request.ip);
    if (waitMs === 0) return handleError(error, request, reply);
    reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
    return handleError(
      new SignoffError('rate_limited', 'Too many unknown decision links from this address; wait a minute.'),
      request,
      reply,
    );
  });
  app.setNotFoundHandler(() => {
    throw new SignoffError('not_found', 'No such page: decision links look like /d/{token}.');
  });
  await app.register(formbody, { bodyLimit: services.config.bodyLimitBytes });
  app.addHook('onRequest', (_request, reply, done) => {
    setPageHeaders(reply);
    done();
  });
}

/** GET/HEAD /d/{token}: what the link is for, changing nothing (scanners open links too). */
function registerShowLink(app: FastifyInstance, services: Services) {
  // Pages and form posts are for people, not part of the API description.
  const pages = app.withTypeProvider<TypeBoxTypeProvider>();
  pages.get(
    '/:token',
    { schema: { hide: true, params: TokenParams, querystring: PageQuery } },
    async (request, reply) => {
      const { token } = request.params;
      const opened = await openLink(services, token);
      const now = services.now();
      // Scanners and unfurlers fetch links; HEAD is not even worth an audit line.
      if (request.method === 'GET') await recordLinkOpened(services, opened, request.headers['user-agent']);
      if (opened.state !== 'usable') return spentLink(services, reply, request, opened, token, now);
      if (opened.approval.status !== 'pending') {
        const error = new SignoffError(
          'already_decided',
          `This approval is already ${opened.approval.status}.`,
        );
        reply.status(HTTP_STATUS[error.code]);
        if (wantsJson(request)) return reply.send({ ...errorBody(error, request.id), ...linkJson(opened) });
        return reply.type('text/html; charset=utf-8').send(renderErrorPage('Already decided', error.message));
      }
      if (wantsJson(request)) return reply.send(linkJson(opened));
      return reply
        .type('text/html; charset=utf-8')
        .send(
          renderDecisionPage(
            opened,
            token,
            { ...(await pageContextOf(services, opened.approval.id)), now },
            request.query.verdict,
          ),
        );
    },
  );
}

/** POST /d/{token}: decide, spending the link; a browser's form or a script's JSON. */
function registerDecideByLink(app: FastifyInstance, services: Services) {
  const pages = app.withTypeProvider<TypeBoxTypeProvider>();
  // Scripts decide here too (the README's curl), so this one is in the API description.
  pages.post(
    '/:token',
    {
      schema: {
        summary: 'Decide through a mailed link',
        description:
          'The token in the path is the credential: no Authorization header. Send Accept: application/json for JSON answers; without it, the answers are pages for browsers. The link is spent by the decision it makes. Unknown tokens count against the client address (SIGNOFF_LINK_RATE_LIMIT a minute; then 429 with Retry-After), links it was sent keep working.',
        tags: ['approvals'],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        params: TokenParams,
        body: DecisionBody,
        response: {
          200: {
            description: 'The decision is recorded: the approval as it stands now.',
            content: {
              'application/json': { schema: ApprovalView },
              'text/html': { schema: Type.String() },
            },
          },
          ...errorResponses([
            ...WITH_BODY,
            'link_not_found',
            'rate_limited',
            'already_decided',
            'duplicate_decision',
            'not_approver',
            'self_approval',
          ]),
          410: SpentLinkAnswer,
        },
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      try {
        const approval = await decideByLink(services, token, {
          verdict: request.body.verdict,
          comment: request.body.comment?.trim() || undefined,
          inputs: request.body.inputs,
          formInputs: formInputsOf(request.body, request.headers['content-type']),
          ip: request.ip,
        });
        if (wantsJson(request)) return reply.send(approvalView(approval, LINK_HOLDERS_SEE_NO_FAILURES));
        return reply
          .type('text/html; charset=utf-8')
          .send(
            renderDecidedPage(approval, request.body.verdict, await pageContextOf(services, approval.id)),
          );
      } catch (error) {
        if (error instanceof SignoffError && (error.code === 'link_used' || error.code === 'link_expired')) {
          const opened = await openLink(services, token);
          return spentLink(services, reply, request, opened, token, services.now());
        }
        throw error;
      }
    },
  );
}

/** POST /d/{token}/renew: mail a fresh link for a spent one, while the approval waits on its approver. */
function registerRenewLink(app: FastifyInstance, services: Services) {
  const pages = app.withTypeProvider<TypeBoxTypeProvider>();
  pages.post('/:token/renew', { schema: { hide: true, params: TokenParams } }, async (request, reply) => {
    const { approver } = await renewLink(services, request.params.token);
    reply.status(202);
    if (wantsJson(request)) return reply.send({ renewed: true, approver });
    return reply.type('text/html; charset=utf-8').send(renderRenewedPage(approver));
  });
}

/**
 * GET/HEAD /d/{token} show; POST decides; POST /renew mails a fresh link. No login needed.
 * Registered as its own scope under the prefix /d: only these routes take form posts, an
 * address that keeps trying unknown links is throttled, and their errors (unknown paths
 * under /d too) answer as pages.
 */
export async function registerDecisionPageRoutes(app: FastifyInstance, services: Services) {
  await setUpDecisionScope(app, services);
  registerShowLink(app, services);
  registerDecideByLink(app, services);
  registerRenewLink(app, services);
}

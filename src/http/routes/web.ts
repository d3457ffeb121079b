import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { decideApproval } from '../../approvals/decide.js';
import { type InboxTab, isInvolved, isWaitingFor, queryInbox } from '../../approvals/inbox.js';
import { findApprovalById, timelineOf } from '../../approvals/reads.js';
import { grantOffer, grantStep, grantTermsOf } from '../../approvals/standing-grants.js';
import type { PermissionDocument } from '../../auth/permission-document.js';
import { SignoffError } from '../../core/errors.js';
import { EMAIL_PATTERN } from '../../core/identity.js';
import { APPROVAL_STATUSES, type Approval } from '../../core/model.js';
import { SINGLE_LINE } from '../../input-rules.js';
import type { Services } from '../../services.js';
import {
  endWebSession,
  loadWebSession,
  mailSignInLink,
  openSignInLink,
  signInWithLink,
  startWebSession,
  type WebPerson,
} from '../../sessions/web-sessions.js';
import { createErrorHandler, type ErrorRenderer } from '../errors.js';
import { createGuessLimiter } from '../guess-limiter.js';
import { renderErrorPage } from '../pages.js';
import { renderApprovalPage } from '../web/approval-page.js';
import { SCRIPT, STYLESHEET } from '../web/assets.js';
import { streamChanges } from '../web/event-stream.js';
import { renderInbox } from '../web/inbox-page.js';
import type { Viewer } from '../web/layout.js';
import { createOidcSignIn, type PendingSignIn } from '../web/oidc.js';
import { renderSignIn, renderSignInConfirm, renderSignInSent } from '../web/sign-in-pages.js';
import { setPageHeaders, wantsJson } from './decision-pages.js';
import { registerWebGrantRoutes } from './web-grants.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person of a web page request, if any. */
    web?: { person: WebPerson; hash: string };
  }
}

const Line = (maxLength: number) => Type.String({ maxLength, format: SINGLE_LINE });
const Csrf = Type.String({ minLength: 1, maxLength: 200 });
const Next = Type.Optional(Line(500));

const InboxQuerySchema = Type.Object(
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
type InboxQuerySchema = Static<typeof InboxQuerySchema>;

const IdParams = Type.Object({ id: Line(64) });
type IdParams = Static<typeof IdParams>;
const TokenParams = Type.Object({ token: Line(128) });
type TokenParams = Static<typeof TokenParams>;
const Verdict = Type.Union([Type.Literal('approve'), Type.Literal('reject')]);
const ApprovalQuery = Type.Object(
  { verdict: Type.Optional(Verdict), decided: Type.Optional(Verdict) },
  { additionalProperties: false },
);
type ApprovalQuery = Static<typeof ApprovalQuery>;
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
  { additionalProperties: false },
);
type WebDecisionBody = Static<typeof WebDecisionBody>;
const SignInBody = Type.Object(
  { _csrf: Csrf, email: Type.String({ pattern: EMAIL_PATTERN, maxLength: 320 }), next: Next },
  { additionalProperties: false },
);
type SignInBody = Static<typeof SignInBody>;
const CsrfBody = Type.Object({ _csrf: Csrf, next: Next }, { additionalProperties: false });
type CsrfBody = Static<typeof CsrfBody>;
const SignInQuery = Type.Object({ next: Next }, { additionalProperties: false });
type SignInQuery = Static<typeof SignInQuery>;

const PAGE_SIZE = 25;
const PENDING_COOKIE = 'signoff_oidc';
const HTML = 'text/html; charset=utf-8';

/** Only a path on this site may be where signing in returns to (no `//host`, no scheme). */
function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

/**
 * The approver's web app: sign-in (a provider, or mailed one-time links), sessions in an
 * HttpOnly cookie, the inbox at `/`, approval pages with live updates, and deciding through
 * the one decision path. Every form post carries a CSRF token; a page without a session
 * sends the browser to sign in.
 */
export async function registerWebRoutes(
  app: FastifyInstance,
  services: Services,
  options: { permissions: PermissionDocument },
) {
  const { config } = services;
  const secure = config.publicUrl.startsWith('https:');
  // `__Host-`: the browser keeps it to this host, path /, https only.
  const sessionCookie = secure ? '__Host-signoff' : 'signoff';
  const cookieOptions = { path: '/', httpOnly: true, secure, sameSite: 'lax' as const };
  const oidc = config.webOidc ? createOidcSignIn(services, config.webOidc, options.permissions) : undefined;
  const signInRequests = createGuessLimiter({
    max: 10,
    windowMs: 60_000,
    now: () => services.now().getTime(),
  });
  // Sign-in links are counted as decision links are (SIGNOFF_LINK_RATE_LIMIT): only lookups
  // that find nothing, so a link the address was mailed keeps working.
  const signInLinkGuesses = createGuessLimiter({
    max: config.linkRateLimit,
    windowMs: 60_000,
    now: () => services.now().getTime(),
  });
  const streams = new Set<FastifyReply>();

  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: secure ? '__Host-signoff-csrf' : 'signoff-csrf',
    cookieOpts: cookieOptions,
    getToken: (request) => (request.body as { _csrf?: string } | undefined)?._csrf,
  });
  await app.register(formbody, { bodyLimit: config.bodyLimitBytes });

  const renderError: ErrorRenderer = (request, reply, error, status) => {
    setPageHeaders(reply).status(status);
    if (error.code === 'unauthorized' && request.method === 'GET' && !wantsJson(request))
      return reply.redirect(`/sign-in?next=${encodeURIComponent(request.url)}`, 303);
    if (wantsJson(request)) return reply.send({ error: { code: error.code, message: error.message } });
    const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Cannot do that';
    return reply.type(HTML).send(renderErrorPage(title, error.message));
  };
  const handleError = createErrorHandler(renderError);
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof SignoffError && error.code === 'link_not_found') {
      const waitMs = signInLinkGuesses.fail(request.ip);
      if (waitMs === 0) return handleError(error, request, reply);
      reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      return handleError(
        new SignoffError('rate_limited', 'Too many unknown sign-in links from this address; wait a minute.'),
        request,
        reply,
      );
    }
    // A missing or wrong token: the form came from elsewhere, or from a page too old.
    const csrfRefused = (error as { code?: string }).code?.startsWith('FST_CSRF_');
    return handleError(
      csrfRefused
        ? new SignoffError(
            'forbidden',
            'This form has expired or came from another site; reload the page and try again.',
          )
        : error,
      request,
      reply,
    );
  });
  app.addHook('onRequest', async (request, reply) => {
    setPageHeaders(reply);
    request.web = await loadWebSession(services, request.cookies[sessionCookie]);
  });
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.raw.end();
  });

  const checkCsrf = app.csrfProtection;
  const signedIn: preHandlerAsyncHookHandler = async (request) => {
    if (!request.web) throw new SignoffError('unauthorized', 'Sign in first.');
  };
  const viewerOf = (request: FastifyRequest, reply: FastifyReply): Viewer => ({
    actor: personOf(request).actor,
    csrfToken: reply.generateCsrf(),
  });
  const personOf = (request: FastifyRequest): WebPerson => {
    if (!request.web) throw new SignoffError('unauthorized', 'Sign in first.');
    return request.web.person;
  };
  const actorOf = (person: WebPerson) => ({
    id: person.actor,
    groups: person.groups,
    issuer: person.issuer,
    subject: person.subject,
  });
  /** An approval the person may see: one they are part of, or any with an unrestricted read grant. */
  const loadVisible = async (person: WebPerson, id: string): Promise<Approval> => {
    const approval = await findApprovalById(services, id);
    const readsAll = person.grants.some(
      (g) => !g.metadata && (g.permissions.has('admin') || g.permissions.has('approvals:read')),
    );
    if (!approval || !(readsAll || isInvolved(approval, actorOf(person))))
      throw new SignoffError('not_found', `No approval ${id}.`);
    return approval;
  };
  const startSession = async (reply: FastifyReply, person: WebPerson | string, next: string) => {
    const secret = typeof person === 'string' ? person : await startWebSession(services, person);
    return reply
      .setCookie(sessionCookie, secret, {
        ...cookieOptions,
        maxAge: Math.floor(config.webSessionMaxMs / 1000),
      })
      .redirect(safeNext(next), 303);
  };

  app.get('/assets/app.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLESHEET),
  );
  app.get('/assets/app.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(SCRIPT),
  );

  app.get<{ Querystring: SignInQuery }>(
    '/sign-in',
    { schema: { hide: true, querystring: SignInQuery } },
    async (request, reply) => {
      if (request.web) return reply.redirect(safeNext(request.query.next), 303);
      // The sign-in form's answer redirects to the provider: its origin is a form target too.
      if (config.webOidc) {
        const policy = String(reply.getHeader('content-security-policy'));
        const provider = new URL(config.webOidc.issuer).origin;
        reply.header(
          'content-security-policy',
          policy.replace("form-action 'self'", `form-action 'self' ${provider}`),
        );
      }
      return reply.type(HTML).send(
        renderSignIn({
          csrfToken: reply.generateCsrf(),
          next: safeNext(request.query.next),
          oidc: Boolean(oidc),
        }),
      );
    },
  );

  app.post<{ Body: SignInBody }>(
    '/sign-in',
    { schema: { hide: true, body: SignInBody }, preHandler: checkCsrf },
    async (request, reply) => {
      if (oidc) throw new SignoffError('not_found', 'Sign in with the identity provider.');
      const waitMs = signInRequests.fail(request.ip);
      if (waitMs > 0) {
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new SignoffError('rate_limited', 'Too many sign-in requests from this address; wait a minute.');
      }
      await mailSignInLink(services, request.body.email);
      return reply.type(HTML).send(renderSignInSent(request.body.email));
    },
  );

  app.post<{ Body: CsrfBody }>(
    '/sign-in/oidc',
    { schema: { hide: true, body: CsrfBody }, preHandler: checkCsrf },
    async (request, reply) => {
      if (!oidc) throw new SignoffError('not_found', 'No identity provider is configured.');
      const { url, pending } = await oidc.begin(safeNext(request.body.next));
      return reply
        .setCookie(PENDING_COOKIE, JSON.stringify(pending), { ...cookieOptions, maxAge: 600 })
        .redirect(url, 303);
    },
  );

  // The provider sends the browser back here; the state, nonce and PKCE verifier it left with
  // must match, so only the browser that started can finish.
  app.get('/sign-in/callback', { schema: { hide: true } }, async (request, reply) => {
    if (!oidc) throw new SignoffError('not_found', 'No identity provider is configured.');
    let pending: PendingSignIn;
    try {
      pending = JSON.parse(request.cookies[PENDING_COOKIE] ?? '') as PendingSignIn;
    } catch {
      throw new SignoffError(
        'invalid_input',
        'This sign-in was not started here, or took too long; start again.',
      );
    }
    const person = await oidc.finish(new URL(request.url, config.publicUrl), pending);
    reply.clearCookie(PENDING_COOKIE, { path: '/' });
    return startSession(reply, person, pending.next);
  });

  app.get<{ Params: TokenParams }>(
    '/sign-in/:token',
    { schema: { hide: true, params: TokenParams } },
    async (request, reply) => {
      const { email, state } = await openSignInLink(services, request.params.token);
      if (state !== 'usable')
        throw new SignoffError(
          state === 'used' ? 'link_used' : 'link_expired',
          state === 'used'
            ? 'This sign-in link has already been used. Each link works only once.'
            : 'This sign-in link has expired. Ask for a new one.',
        );
      return reply
        .type(HTML)
        .send(renderSignInConfirm({ email, token: request.params.token, csrfToken: reply.generateCsrf() }));
    },
  );

  app.post<{ Params: TokenParams; Body: CsrfBody }>(
    '/sign-in/:token',
    { schema: { hide: true, params: TokenParams, body: CsrfBody }, preHandler: checkCsrf },
    async (request, reply) => startSession(reply, await signInWithLink(services, request.params.token), '/'),
  );

  app.post<{ Body: CsrfBody }>(
    '/sign-out',
    { schema: { hide: true, body: CsrfBody }, preHandler: checkCsrf },
    async (request, reply) => {
      if (request.web) await endWebSession(services, request.web.hash);
      return reply.clearCookie(sessionCookie, { path: '/' }).redirect('/sign-in', 303);
    },
  );

  app.get<{ Querystring: InboxQuerySchema }>(
    '/',
    { schema: { hide: true, querystring: InboxQuerySchema }, preHandler: signedIn },
    async (request, reply) => {
      const person = actorOf(personOf(request));
      const { tab = 'waiting', status, requester, metadata, q, cursor } = request.query;
      const query = {
        tab: tab as InboxTab,
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
            grants: config.grantLimits.maxUses > 0,
          },
          viewerOf(request, reply),
        ),
      );
    },
  );

  app.get<{ Params: IdParams; Querystring: ApprovalQuery }>(
    '/approvals/:id',
    { schema: { hide: true, params: IdParams, querystring: ApprovalQuery }, preHandler: signedIn },
    async (request, reply) => {
      const person = personOf(request);
      const approval = await loadVisible(person, request.params.id);
      return reply.type(HTML).send(
        renderApprovalPage({
          approval,
          events: await timelineOf(services, approval.id),
          now: services.now(),
          viewer: viewerOf(request, reply),
          waitingForViewer: isWaitingFor(approval, actorOf(person)),
          preselect: request.query.verdict,
          decided: request.query.decided,
          grant: grantOffer(services, approval, person),
        }),
      );
    },
  );

  // The one decision path, as the signed-in person: the same approver, self-approval and
  // quorum rules as the API and the links.
  app.post<{ Params: IdParams; Body: WebDecisionBody }>(
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
        { actor, verdict, comment: request.body.comment?.trim() || undefined, via: 'ui', ip: request.ip },
        grant ? { afterDecide: grantStep(services, actor, grant) } : {},
      );
      return reply.redirect(`/approvals/${request.params.id}?decided=${request.body.verdict}`, 303);
    },
  );

  registerWebGrantRoutes(app, services, {
    signedIn,
    checkCsrf,
    viewerOf,
    actorOf: (request) => personOf(request).actor,
  });

  const stream = (request: FastifyRequest, reply: FastifyReply, ids: readonly string[]) =>
    streamChanges(services.changes, streams, request, reply, ids);

  app.get<{ Params: IdParams }>(
    '/approvals/:id/events',
    { schema: { hide: true, params: IdParams }, preHandler: signedIn },
    async (request, reply) => {
      const approval = await loadVisible(personOf(request), request.params.id);
      stream(request, reply, [approval.id]);
    },
  );

  app.get('/events', { schema: { hide: true }, preHandler: signedIn }, async (request, reply) => {
    const person = actorOf(personOf(request));
    const lists = await Promise.all(
      (['waiting', 'requested'] as const).map((tab) => queryInbox(services.db, person, { tab, limit: 100 })),
    );
    stream(
      request,
      reply,
      lists.flatMap((l) => l.items.map((a) => a.id)),
    );
  });
}

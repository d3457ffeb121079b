import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PermissionDocument } from '../../../auth/permission-document.js';
import { SignoffError } from '../../../core/errors.js';
import { EMAIL_PATTERN } from '../../../core/identity.js';
import type { Services } from '../../../services.js';
import {
  askForSignInLink,
  endWebSession,
  openSignInLink,
  signInWithLink,
  startWebSession,
  type WebPerson,
} from '../../../sessions/web-sessions.js';
import { createGuessLimiter } from '../../guess-limiter.js';
import { createOidcSignIn, type OidcSignIn, type PendingSignIn } from '../../web/oidc.js';
import { renderSignIn, renderSignInConfirm, renderSignInSent } from '../../web/sign-in-pages.js';
import { Csrf, Line } from './forms.js';
import { HTML, safeNext, sessionCookieOf, type WebRoom } from './room.js';

const Next = Type.Optional(Line(500));
const TokenParams = Type.Object({ token: Line(128) });
const SignInBody = Type.Object(
  { _csrf: Csrf, email: Type.String({ pattern: EMAIL_PATTERN, maxLength: 320 }), next: Next },
  { additionalProperties: false },
);
const CsrfBody = Type.Object({ _csrf: Csrf, next: Next }, { additionalProperties: false });
const SignInQuery = Type.Object({ next: Next }, { additionalProperties: false });

const PENDING_COOKIE = 'signoff_oidc';

/** What the sign-in routes share: the provider when there is one, the cookie, and the guards. */
interface SignInRoom {
  readonly services: Services;
  readonly room: WebRoom;
  readonly oidc: OidcSignIn | undefined;
  /** Gives the browser its cookie for `person` (or a cookie value already made) and sends it on to `next`. */
  readonly signInAs: (reply: FastifyReply, person: WebPerson | string, next: string) => Promise<FastifyReply>;
  /** Runs a lookup of a sign-in link; one that finds nothing counts against the address. */
  readonly counted: <T>(ip: string, reply: FastifyReply, lookup: () => Promise<T>) => Promise<T>;
}

function signInRoom(services: Services, room: WebRoom, permissions: PermissionDocument): SignInRoom {
  const { config } = services;
  const cookie = sessionCookieOf(services);
  // Sign-in links are counted as decision links are (SIGNOFF_LINK_RATE_LIMIT): only lookups
  // that find nothing, so a link the address was mailed keeps working.
  const linkGuesses = createGuessLimiter({
    max: config.linkRateLimit,
    windowMs: 60_000,
    now: () => services.now().getTime(),
  });
  return {
    services,
    room,
    oidc: config.webOidc ? createOidcSignIn(services, config.webOidc, permissions) : undefined,
    async signInAs(reply, person, next) {
      const secret = typeof person === 'string' ? person : await startWebSession(services, person);
      return reply
        .setCookie(cookie.name, secret, {
          ...cookie.options,
          maxAge: Math.floor(config.webSessionMaxMs / 1000),
        })
        .redirect(safeNext(next), 303);
    },
    async counted(ip, reply, lookup) {
      try {
        return await lookup();
      } catch (error) {
        if (!(error instanceof SignoffError) || error.code !== 'link_not_found') throw error;
        const waitMs = linkGuesses.fail(ip);
        if (waitMs === 0) throw error;
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new SignoffError(
          'rate_limited',
          'Too many unknown sign-in links from this address; wait a minute.',
        );
      }
    },
  };
}

/** GET /sign-in shows the form (the provider's button, or an address to mail a link to); POST asks for the link. */
function registerSignInForm(app: FastifyInstance, { services, room, oidc }: SignInRoom) {
  const { config } = services;
  const signInRequests = createGuessLimiter({
    max: 10,
    windowMs: 60_000,
    now: () => services.now().getTime(),
  });
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/sign-in', { schema: { hide: true, querystring: SignInQuery } }, async (request, reply) => {
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
  });
  api.post(
    '/sign-in',
    { schema: { hide: true, body: SignInBody }, preHandler: room.checkCsrf },
    async (request, reply) => {
      if (oidc) throw new SignoffError('not_found', 'Sign in with the identity provider.');
      const waitMs = signInRequests.fail(request.ip);
      if (waitMs > 0) {
        reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new SignoffError('rate_limited', 'Too many sign-in requests from this address; wait a minute.');
      }
      await askForSignInLink(services, request.body.email);
      return reply.type(HTML).send(renderSignInSent(request.body.email));
    },
  );
}

/**
 * POST /sign-in/oidc leaves for the provider; GET /sign-in/callback is where it sends the browser
 * back. The state, nonce and PKCE verifier it left with must match, so only the browser that
 * started can finish.
 */
function registerProviderSignIn(app: FastifyInstance, { services, room, oidc, signInAs }: SignInRoom) {
  const cookie = sessionCookieOf(services);
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.post(
    '/sign-in/oidc',
    { schema: { hide: true, body: CsrfBody }, preHandler: room.checkCsrf },
    async (request, reply) => {
      if (!oidc) throw new SignoffError('not_found', 'No identity provider is configured.');
      const { url, pending } = await oidc.begin(safeNext(request.body.next));
      return reply
        .setCookie(PENDING_COOKIE, JSON.stringify(pending), { ...cookie.options, maxAge: 600 })
        .redirect(url, 303);
    },
  );
  api.get('/sign-in/callback', { schema: { hide: true } }, async (request, reply) => {
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
    const person = await oidc.finish(new URL(request.url, services.config.publicUrl), pending);
    reply.clearCookie(PENDING_COOKIE, { path: '/' });
    return signInAs(reply, person, pending.next);
  });
}

/** GET /sign-in/{token} shows whom a mailed link signs in, changing nothing; only the POST spends it. */
function registerLinkSignIn(app: FastifyInstance, { services, room, signInAs, counted }: SignInRoom) {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/sign-in/:token', { schema: { hide: true, params: TokenParams } }, async (request, reply) => {
    const { email, state } = await counted(request.ip, reply, () =>
      openSignInLink(services, request.params.token),
    );
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
  });
  api.post(
    '/sign-in/:token',
    { schema: { hide: true, params: TokenParams, body: CsrfBody }, preHandler: room.checkCsrf },
    async (request, reply) =>
      signInAs(
        reply,
        await counted(request.ip, reply, () => signInWithLink(services, request.params.token)),
        '/',
      ),
  );
}

/** POST /sign-out forgets the browser and sends it to the sign-in page. */
function registerSignOut(app: FastifyInstance, { services, room }: SignInRoom) {
  const cookie = sessionCookieOf(services);
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .post(
      '/sign-out',
      { schema: { hide: true, body: CsrfBody }, preHandler: room.checkCsrf },
      async (request, reply) => {
        if (request.web) await endWebSession(services, request.web.hash);
        return reply.clearCookie(cookie.name, { path: '/' }).redirect('/sign-in', 303);
      },
    );
}

/**
 * Signing in and out: with the identity provider (authorization code, PKCE), or with a
 * mailed one-time link that only a POST spends; a signed-in browser holds an HttpOnly cookie.
 */
export function registerSignInRoutes(
  app: FastifyInstance,
  services: Services,
  room: WebRoom,
  options: { permissions: PermissionDocument },
) {
  const signIn = signInRoom(services, room, options.permissions);
  registerSignInForm(app, signIn);
  registerProviderSignIn(app, signIn);
  registerLinkSignIn(app, signIn);
  registerSignOut(app, signIn);
}

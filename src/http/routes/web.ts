import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PermissionDocument } from '../../auth/permission-document.js';
import { SignoffError } from '../../core/errors.js';
import type { Services } from '../../services.js';
import { loadWebSession, type WebPerson } from '../../sessions/web-sessions.js';
import { createErrorHandler, type ErrorRenderer, errorBody } from '../errors.js';
import { renderErrorPage, setPageHeaders, wantsJson } from '../pages.js';
import { SCRIPT, STYLESHEET } from '../web/assets.js';
import { registerWebGrantRoutes } from './web/grants.js';
import { registerInboxRoutes } from './web/inbox.js';
import { createWebRoom, HTML, sessionCookieOf } from './web/room.js';
import { registerSignInRoutes } from './web/sign-in.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person of a web page request, if any. */
    web?: { person: WebPerson; hash: string };
  }
}

/**
 * The approver's web app, as a plugin: cookies, CSRF tokens, form bodies, page headers, its
 * own error pages and the session of each request, then its rooms: sign-in (a provider, or
 * mailed one-time links), the inbox and approval pages (deciding through the one decision
 * path, live through event streams), and standing grants. Every form post carries a CSRF
 * token; a page without a session sends the browser to sign in.
 */
export async function registerWebRoutes(
  app: FastifyInstance,
  services: Services,
  options: { permissions: PermissionDocument },
) {
  const session = sessionCookieOf(services);
  const streams = new Set<FastifyReply>();

  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: session.options.secure ? '__Host-signoff-csrf' : 'signoff-csrf',
    cookieOpts: session.options,
    getToken: (request) => (request.body as { _csrf?: string } | undefined)?._csrf,
  });
  await app.register(formbody, { bodyLimit: services.config.bodyLimitBytes });

  const renderError: ErrorRenderer = (request, reply, error, status) => {
    setPageHeaders(reply).status(status);
    if (error.code === 'unauthorized' && request.method === 'GET' && !wantsJson(request))
      return reply.redirect(`/sign-in?next=${encodeURIComponent(request.url)}`, 303);
    if (wantsJson(request)) return reply.send(errorBody(error, request.id));
    const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Cannot do that';
    return reply.type(HTML).send(renderErrorPage(title, error.message));
  };
  const handleError = createErrorHandler(renderError);
  app.setErrorHandler((error, request, reply) => {
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
  // Declared once for the web scope, so its requests keep one shape; set by the hook below.
  app.decorateRequest('web', undefined);
  app.addHook('onRequest', async (request, reply) => {
    setPageHeaders(reply);
    request.web = await loadWebSession(services, request.cookies[session.name]);
  });
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.raw.end();
  });

  app.get('/assets/app.css', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLESHEET),
  );
  app.get('/assets/app.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(SCRIPT),
  );

  const room = createWebRoom(services, app.csrfProtection);
  registerSignInRoutes(app, services, room, options);
  registerInboxRoutes(app, services, room, streams);
  registerWebGrantRoutes(app, services, room);
}

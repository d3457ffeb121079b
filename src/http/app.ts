import { createRequire } from 'node:module';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { PermissionDocument } from '../auth/permission-document.js';
import type { Authenticator } from '../auth/principal.js';
import type { Config } from '../config.js';
import { SignoffError } from '../core/errors.js';
import type { Routing } from '../intake/routing.js';
import type { Services } from '../services.js';
import { createClientErrorHandler, createErrorHandler } from './errors.js';
import { registerOpenApi, registerReferenceRoutes } from './openapi.js';
import { registerApprovalPreviewRoute } from './routes/approval-preview.js';
import { registerApprovalRoutes } from './routes/approvals/index.js';
import { registerDecisionPageRoutes } from './routes/decision-pages.js';
import { registerEvidenceRoutes } from './routes/evidence.js';
import { registerGitHubRoutes } from './routes/github.js';
import { registerGrantRoutes } from './routes/grants.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMcpRoutes } from './routes/mcp.js';
import { type MetricsSource, registerMetricsRoutes } from './routes/metrics.js';
import { registerOutboxRoutes } from './routes/outbox.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerSlackRoutes } from './routes/slack.js';
import { registerSnsRoutes } from './routes/sns.js';
import { registerWebRoutes } from './routes/web.js';
import { createValidatorCompiler } from './validation.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Every route as registered: method, path, whether it asks for a credential and whether
     * it is left out of the API description on purpose (pages, form posts).
     */
    routeTable: { method: string; url: string; guarded: boolean; hidden: boolean }[];
  }
}

const { version: VERSION } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The setting as Fastify takes it: a number of hops becomes "believe the nearest N". */
function fastifyTrustProxy(setting: Config['trustProxy']) {
  if (setting === false) return false;
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return [...setting];
}

/**
 * Fastify's own response serializers, each compiled when a route first answers with its
 * schema rather than all of them while the app is built (a process sends few of its routes'
 * statuses), and once per schema: every route that answers an approval shares one.
 */
function compileSerializersOnFirstUse(): SerializerSelector.SerializerFactory {
  const buildCompiler = SerializerSelector();
  return (externalSchemas, options) => {
    const compile = buildCompiler(externalSchemas, options);
    const compiled = new WeakMap<object, SerializerSelector.Serializer>();
    const shared = (route: SerializerSelector.RouteDefinition) => {
      const { schema } = route;
      if (typeof schema !== 'object' || schema === null) return compile(route);
      const serialize = compiled.get(schema) ?? compile(route);
      compiled.set(schema, serialize);
      return serialize;
    };
    return (route) => {
      let serialize: SerializerSelector.Serializer | undefined;
      return (doc) => {
        serialize ??= shared(route);
        return serialize(doc);
      };
    };
  };
}

/** Fastify with signoff's bounds on connections, trusted proxies, request ids and quiet logs. */
function createFastify(
  services: Services,
  handleError: ReturnType<typeof createErrorHandler>,
  newRequestId: () => string,
): FastifyInstance {
  const timeouts = services.config.httpServerTimeouts;
  return Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: services.config.bodyLimitBytes,
    // Bounds on receiving a request, and on an idle connection between requests. Node counts
    // them only until a request has fully arrived, so a long poll or an event stream, whose
    // request is complete when its answer starts, is never cut by them; no socket inactivity
    // timeout is set for the same reason. Node checks the bounds every connectionsCheckingInterval
    // (30 s by default): a tenth of the shortest bound keeps a cut close to its setting.
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: Math.min(5_000, Math.max(100, Math.floor(timeouts.headersMs / 10))),
    },
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    clientErrorHandler: createClientErrorHandler(newRequestId, services.logger as FastifyBaseLogger),
    // Client addresses (rate limits, decisions' ip) come from the proxies an operator trusts.
    trustProxy: fastifyTrustProxy(services.config.trustProxy),
    // Node refuses request heads over 16 KiB, so the router never cuts a parameter off
    // before any scope is known: its length is for its route's schema to judge, and its
    // scope answers (a decision link's with a page).
    routerOptions: { maxParamLength: 16 * 1024 },
    // Fastify's own request lines would carry URLs, and decision URLs carry tokens.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: newRequestId,
    // Errors Fastify raises before routing (a malformed URL) answer in our shape too.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    schemaController: { compilersFactory: { buildSerializer: compileSerializersOnFirstUse() } },
  });
}

/** Keeps `app.routeTable`: every route as it is registered. */
function keepRouteTable(app: FastifyInstance): void {
  const routeTable: FastifyInstance['routeTable'] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD')
        routeTable.push({
          method,
          url: route.url,
          guarded: Boolean(route.preValidation ?? route.preHandler),
          hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide),
        });
    }
  });
}

/** Errors, unknown routes, refused text bodies, and the headers, log line and count of every answer. */
function handleEveryRequest(
  app: FastifyInstance,
  services: Services,
  handleError: ReturnType<typeof createErrorHandler>,
): void {
  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    throw new SignoffError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
  });
  // The API speaks JSON; text bodies are refused with 415 rather than parsed.
  app.removeContentTypeParser('text/plain');
  // Hooks on every request take callbacks: an async hook costs a promise per request.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Paths may hold link tokens: log and count the route pattern, never the URL.
    const route = request.routeOptions.url ?? 'unknown';
    request.log.info({ method: request.method, route, status: reply.statusCode }, 'request');
    services.observer.observe({
      type: 'http.request',
      method: request.method,
      route,
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
    });
    done();
  });
}

/** Builds the HTTP application (not listening yet), so tests can use `inject`. */
export async function buildApp(
  services: Services,
  authenticators: readonly Authenticator[],
  intake: Routing = { routes: [], github: { routes: [], people: new Map() }, version: null },
  web: { permissions: PermissionDocument } = { permissions: { issuers: [], rules: [] } },
  options: { metrics?: MetricsSource } = {},
): Promise<FastifyInstance> {
  const handleError = createErrorHandler();
  const newRequestId = () => services.newId('evt').replace('evt_', 'req_');
  const app = createFastify(services, handleError, newRequestId);
  // Declared once, so every request has the same shape (Fastify's advice): set by requirePermission.
  app.decorateRequest('principal', undefined);
  keepRouteTable(app);
  handleEveryRequest(app, services, handleError);

  await registerOpenApi(app, VERSION);
  registerReferenceRoutes(app);
  registerHealthRoutes(app, services);
  registerApprovalRoutes(app, services, authenticators);
  registerApprovalPreviewRoute(app, services, authenticators);
  registerMcpRoutes(app, services, authenticators, web.permissions);
  registerOutboxRoutes(app, services, authenticators);
  registerPolicyRoutes(app, services, authenticators);
  registerGrantRoutes(app, services, authenticators);
  registerEvidenceRoutes(app, services, authenticators);
  await app.register(async (pages) => registerDecisionPageRoutes(pages, services), { prefix: '/d' });
  await app.register(async (sns) => registerSnsRoutes(sns, services, intake.routes));
  await app.register(async (github) => registerGitHubRoutes(github, services, intake.github));
  await app.register(async (slack) => registerSlackRoutes(slack, services));
  // The web app: its own cookies, CSRF tokens, form bodies and error pages.
  await app.register(async (pages) => registerWebRoutes(pages, services, web));
  if (options.metrics) registerMetricsRoutes(app, services.config.metricsToken, options.metrics);
  return app;
}

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { createReviewHandler } from './approvals/review.js';
import { createTimerHandler } from './approvals/timers.js';
import { createApiKeyAuthenticator, ensureAdminKey } from './auth/api-keys.js';
import { createJwtAuthenticator } from './auth/jwt.js';
import { checkPinnedPolicies, loadPermissions, type PermissionDocument } from './auth/permission-document.js';
import type { Authenticator } from './auth/principal.js';
import { createWorkflowHandlers } from './callbacks/resume.js';
import { createWebhookResumer } from './callbacks/webhook.js';
import { createLocalChanges } from './changes.js';
import { createEmailNotifier } from './channels/email-notifier.js';
import { createConsoleMailer, createSmtpMailer, type Mailer } from './channels/mailer.js';
import { type Config, databaseOptions } from './config.js';
import { createEgress } from './egress/egress.js';
import { type ResolveHost, resolveWithSystem } from './egress/pinned-request.js';
import { buildApp } from './http/app.js';
import { newId } from './ids.js';
import { loadRoutes } from './intake/routing.js';
import { createLogger } from './logger.js';
import { createDispatcher, type Dispatcher } from './outbox/dispatcher.js';
import type { OutboxHandlers } from './outbox/handler.js';
import { loadPolicies } from './policies/catalog.js';
import { type AiReviewer, createAiReviewer } from './reviewers/ai.js';
import type { Services } from './services.js';
import { type Db, isPostgres, migrate, openDatabase } from './store/database.js';
import { createPostgresChanges } from './store/postgres-changes.js';
import { startSweeper } from './worker/sweeper.js';

export interface Signoff {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly dispatcher: Dispatcher;
  /** The admin key generated on this start, if one was; it is shown once and never again. */
  readonly generatedAdminKey: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly mailer?: Mailer;
  readonly now?: () => Date;
  /** Run the outbox dispatcher and expiry sweeper (tests may drive them by hand). */
  readonly workers?: boolean;
  /** Where the console mailer prints when no SMTP server is configured. */
  readonly print?: (text: string) => void;
  /** Resolves webhook host names (default: the system resolver); tests answer without DNS. */
  readonly resolveHost?: ResolveHost | undefined;
}

function chooseMailer(config: Config, print: (text: string) => void): Mailer {
  if (config.smtpUrl) return createSmtpMailer(config.smtpUrl, config.mailFrom, config.httpTimeoutMs);
  return createConsoleMailer(print);
}

/** Wake-ups for long-poll waiters: in-process on SQLite, LISTEN/NOTIFY across instances on PostgreSQL. */
async function openChanges(config: Config, db: Db, logger: Logger) {
  if (!isPostgres(db)) return { ...createLocalChanges(), close: async () => {} };
  const changes = createPostgresChanges({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    logger,
    notify: async (channel, approvalId) => {
      await sql`select pg_notify(${channel}, ${approvalId})`.execute(db);
    },
  });
  await changes.start();
  return changes;
}

function createConfiguredReviewer(config: Config): AiReviewer | undefined {
  if (!config.aiUrl || !config.aiModel) return undefined;
  return createAiReviewer({
    url: config.aiUrl,
    key: config.aiKey,
    model: config.aiModel,
    timeoutMs: config.aiTimeoutMs,
  });
}

/** API keys always; JWTs when an issuer is configured. */
function createAuthenticators(
  config: Config,
  services: Services,
  permissions: PermissionDocument,
): Authenticator[] {
  const authenticators: Authenticator[] = [
    createApiKeyAuthenticator(services.db, { size: config.tokenCacheSize, ttlMs: config.apiKeyCacheTtlMs }),
  ];
  if (permissions.issuers.length > 0) {
    authenticators.unshift(
      createJwtAuthenticator({
        permissions,
        now: services.now,
        logger: services.logger,
        clockSkewSeconds: config.oidcClockSkewSeconds,
        cacheSize: config.tokenCacheSize,
        cacheTtlMs: config.tokenCacheTtlMs,
        jwksCooldownMs: config.jwksCooldownMs,
        httpTimeoutMs: config.httpTimeoutMs,
      }),
    );
  }
  return authenticators;
}

/** Wires everything from a config: database (migrated), admin key, workers, HTTP app. */
export async function createSignoff(config: Config, options: StartOptions = {}): Promise<Signoff> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  // A mistake in the permission document stops the start before anything else is opened.
  const policies = loadPolicies(config.policiesPath, {
    aiConfigured: Boolean(config.aiUrl),
    identity: config.identity,
  });
  const routes = loadRoutes(config.routesPath, policies);
  const permissions = loadPermissions({
    path: config.permissionsPath,
    issuer: config.oidcIssuer,
    audience: config.oidcAudience,
  });
  checkPinnedPolicies(permissions, (name) => policies.has(name));
  const db: Db = openDatabase(
    databaseOptions(config, (error) => logger.error({ err: error }, 'database connection error')),
  );
  try {
    await migrate(db, config.databaseSchema, logger);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const changes = await openChanges(config, db, logger);
  let dispatcher: Dispatcher | undefined;
  const services: Services = {
    config,
    db,
    logger,
    now: options.now ?? (() => new Date()),
    newId,
    changes,
    mailer: options.mailer ?? chooseMailer(config, print),
    egress: createEgress({
      allow: config.webhookAllow,
      resolve: options.resolveHost ?? resolveWithSystem,
      timeoutMs: config.httpTimeoutMs,
      logger,
    }),
    policies,
    wakeDispatcher: () => dispatcher?.wake(),
  };
  // Every outbox kind needs its handler here: the type refuses a missing one.
  const handlers: OutboxHandlers = {
    email: createEmailNotifier(services),
    webhook: createWebhookResumer(services),
    ...createWorkflowHandlers(services),
    review: createReviewHandler(services, createConfiguredReviewer(config)),
    timer: createTimerHandler(services),
  };
  dispatcher = createDispatcher(services, handlers);
  const generatedAdminKey = await ensureAdminKey(db, newId, services.now(), config.adminKey);
  const authenticators = createAuthenticators(config, services, permissions);
  const app = await buildApp(services, authenticators, { routes });
  const workers = options.workers ?? true;
  const sweeper = workers ? startSweeper(services) : undefined;
  if (workers) dispatcher.start();
  const started = dispatcher;
  return {
    app,
    services,
    dispatcher: started,
    generatedAdminKey,
    async close() {
      await sweeper?.stop();
      await app.close();
      await started.stop();
      services.mailer.close();
      await changes.close();
      await db.destroy();
    },
  };
}

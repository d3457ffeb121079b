import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { createReviewHandler } from './approvals/review.js';
import { createTimerHandler } from './approvals/timers.js';
import { createApiKeyAuthenticator, ensureAdminKey, type UnissuedAdminKey } from './auth/api-keys.js';
import { createJwtAuthenticator } from './auth/jwt.js';
import type { PermissionDocument } from './auth/permission-document.js';
import type { Authenticator } from './auth/principal.js';
import { createGitHubAnswerHandler } from './callbacks/github.js';
import { createWorkflowHandlers } from './callbacks/resume.js';
import { createWebhookResumer } from './callbacks/webhook.js';
import { createLocalChanges, createWaitCounter } from './changes.js';
import { createBreakGlassMailHandler } from './channels/break-glass-mail.js';
import { createEmailNotifier } from './channels/email-notifier.js';
import { createConsoleMailer, createSmtpMailer } from './channels/mailer.js';
import { createSignInMailHandler } from './channels/sign-in-notifier.js';
import { createSlackPostHandler, createSlackSyncHandler } from './channels/slack-notifier.js';
import { type Config, databaseOptions } from './config.js';
import { NOTIFICATION_EVENTS } from './core/audit.js';
import type { LoadedPolicy } from './core/policy-version.js';
import { loadDeclarations } from './declarations.js';
import { createEgress } from './egress/egress.js';
import { type ResolveHost, resolveWithSystem } from './egress/pinned-request.js';
import { recordPolicyVersions } from './governance/policy-log.js';
import { buildApp } from './http/app.js';
import { newId } from './ids.js';
import { loadedRouting } from './intake/routing.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics/metrics.js';
import { createDispatcher, type Dispatcher } from './outbox/dispatcher.js';
import { PermanentDeliveryError } from './outbox/errors.js';
import type { OutboxHandler, OutboxHandlers } from './outbox/handler.js';
import { loadedPolicies } from './policies/catalog.js';
import type { Mailer, SlackApi } from './ports.js';
import { type AiReviewer, createAiReviewer } from './reviewers/ai.js';
import type { Services } from './services.js';
import { type Db, isPostgres, openDatabase } from './store/database.js';
import { migrate } from './store/migrate.js';
import { createPostgresChanges } from './store/postgres-changes.js';
import { startSweeper } from './worker/sweeper.js';

export interface Signoff {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly dispatcher: Dispatcher;
  /**
   * The admin key generated on this start when there is none: shown once and never again, and
   * stored only once it has been shown (`store()`).
   */
  readonly unissuedAdminKey: UnissuedAdminKey | undefined;
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

/** Slack's Web API client, loaded only by a signoff that has a Slack token. */
async function createConfiguredSlack(config: Config, logger: Logger): Promise<SlackApi | undefined> {
  if (!config.slackBotToken) return undefined;
  const { createSlackApi } = await import('./channels/slack-api.js');
  return createSlackApi({
    token: config.slackBotToken,
    apiUrl: config.slackApiUrl,
    timeoutMs: config.httpTimeoutMs,
    logger,
  });
}

/** Slack messages queued before Slack was switched off are given up, not retried forever. */
function withoutSlack<K extends 'slack-post' | 'slack-sync'>(): OutboxHandler<K> {
  return {
    events: NOTIFICATION_EVENTS,
    async deliver() {
      throw new PermanentDeliveryError('Slack is not configured (SIGNOFF_SLACK_BOT_TOKEN).');
    },
  };
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

/**
 * The database, migrated, with the policies this start loaded recorded in the change log
 * (before anything can be created under them); closed again when either fails.
 */
async function openMigratedDatabase(
  config: Config,
  logger: Logger,
  workers: boolean,
  loaded: { readonly policies: readonly LoadedPolicy[]; readonly at: Date },
): Promise<Db> {
  const db: Db = openDatabase({
    ...databaseOptions(config, (error) => logger.error({ err: error }, 'database error')),
    checkpointInBackground: workers,
  });
  try {
    await migrate(db, config.databaseSchema, logger);
    await recordPolicyVersions(db, loaded.policies, loaded.at);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** Every outbox kind's handler: the type refuses a missing one. */
function createOutboxHandlers(services: Services): OutboxHandlers {
  return {
    email: createEmailNotifier(services),
    webhook: createWebhookResumer(services),
    ...createWorkflowHandlers(services),
    review: createReviewHandler(services, createConfiguredReviewer(services.config)),
    timer: createTimerHandler(services),
    'github-answer': createGitHubAnswerHandler(services),
    'slack-post': services.slack ? createSlackPostHandler(services, services.slack) : withoutSlack(),
    'slack-sync': services.slack ? createSlackSyncHandler(services, services.slack) : withoutSlack(),
    'sign-in-mail': createSignInMailHandler(services),
    'break-glass-mail': createBreakGlassMailHandler(services),
  };
}

/** Wires everything from a config: database (migrated), admin key, workers, HTTP app. */
export async function createSignoff(config: Config, options: StartOptions = {}): Promise<Signoff> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // Printed mails carry live links: stderr, away from the JSON logs that shippers collect.
  const print = options.print ?? ((text: string) => process.stderr.write(text));
  // A mistake in the permission document stops the start before anything else is opened.
  const { policies, routing, permissions } = loadDeclarations(config);
  const workers = options.workers ?? true;
  const now = options.now ?? (() => new Date());
  const db = await openMigratedDatabase(config, logger, workers, {
    policies: [...loadedPolicies(policies), ...loadedRouting(routing)],
    at: now(),
  });
  const changes = await openChanges(config, db, logger);
  const metrics = createMetrics(db, now);
  let dispatcher: Dispatcher | undefined;
  const services: Services = {
    config,
    db,
    logger,
    now,
    newId,
    changes,
    waits: createWaitCounter(),
    mailer: options.mailer ?? chooseMailer(config, print),
    slack: await createConfiguredSlack(config, logger),
    egress: createEgress({
      allow: config.webhookAllow,
      resolve: options.resolveHost ?? resolveWithSystem,
      timeoutMs: config.httpTimeoutMs,
      logger,
    }),
    policies,
    observer: metrics,
    wakeDispatcher: () => dispatcher?.wake(),
  };
  dispatcher = createDispatcher(services, createOutboxHandlers(services));
  const unissuedAdminKey = await ensureAdminKey(db, newId, services.now(), config.adminKey);
  const authenticators = createAuthenticators(config, services, permissions);
  const app = await buildApp(
    services,
    authenticators,
    routing,
    { permissions },
    {
      metrics: { contentType: metrics.registry.contentType, render: () => metrics.registry.metrics() },
    },
  );
  const sweeper = workers ? startSweeper(services) : undefined;
  if (workers) dispatcher.start();
  const started = dispatcher;
  return {
    app,
    services,
    dispatcher: started,
    unissuedAdminKey,
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

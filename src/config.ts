import { API_KEY_PATTERN } from './auth/secrets.js';
import { parseDuration } from './core/duration.js';
import { SignoffError } from './core/errors.js';
import { type IdentityRules, normalizeIdentity } from './core/identity.js';
import { type AllowList, parseAllowList, parseCidr } from './egress/address-policy.js';
import { isSingleLine } from './input-rules.js';

/** Everything signoff can be told, typed. Read once at start from environment variables. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  /** How mails name this signoff (SIGNOFF_INSTANCE_NAME; the public URL's host by default). */
  readonly instanceName: string;
  readonly databaseUrl: string;
  /** PostgreSQL schema for signoff's tables. */
  readonly databaseSchema: string;
  readonly databasePoolSize: number;
  readonly databaseStatementTimeoutMs: number;
  /**
   * PostgreSQL keeps the statements of hot paths prepared per connection (on by default);
   * off for a pooler that cannot carry them, such as PgBouncer in transaction mode without
   * max_prepared_statements (1.21 and later can carry them).
   */
  readonly databasePreparedStatements: boolean;
  readonly adminKey: string | undefined;
  /** The bearer token GET /metrics asks for; without one, /metrics is not served. */
  readonly metricsToken: string | undefined;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  /** The longest a decision link works; undefined: until its approval's deadline, however far. */
  readonly linkTtlMs: number | undefined;
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  /**
   * Standing grants (an approver's "the same action again, N times or for T"): the most uses
   * and the longest time one may allow. `maxUses` 0, the default, turns them off.
   */
  readonly grantLimits: { readonly maxUses: number; readonly maxDurationMs: number };
  readonly bodyLimitBytes: number;
  /**
   * Receiving a request: its line and headers must arrive within `headers` (counted from the
   * connection's start or the request's first byte), all of it within `request`; otherwise it is
   * answered 408 and closed. `keepAlive`: how long a connection may sit idle between requests.
   * None of them limits the answer (long polls, event streams).
   */
  readonly httpServerTimeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
  /**
   * Decision-link lookups per minute that may find nothing for one client address before it
   * waits; sign-in-link lookups have as many, counted apart.
   */
  readonly linkRateLimit: number;
  /**
   * Which proxies in front of signoff to believe about the client's address: a number of hops,
   * or their addresses and CIDRs; false believes none (the connection's address counts).
   */
  readonly trustProxy: false | number | readonly string[];
  readonly logLevel: string;
  /** Outbound HTTP requests (webhooks) give up after this long. */
  readonly httpTimeoutMs: number;
  /**
   * Where webhooks may go (SIGNOFF_WEBHOOK_ALLOW). Undefined: anywhere but private networks,
   * loopback, link-local, unspecified and cloud metadata addresses.
   */
  readonly webhookAllow: AllowList | undefined;
  /** First retry delay of the outbox; each further attempt doubles it, with jitter. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** A message still undelivered this long after it was queued is dead-lettered. */
  readonly deadLetterAfterMs: number;
  /** Delivered outbox messages and spent links are deleted this long after they were done with. */
  readonly retentionMs: number;
  /** How often the dispatcher and the expiry sweeper look for due work when not woken. */
  readonly pollIntervalMs: number;
  /** One accepted token issuer (more can be listed in the permission document). */
  readonly oidcIssuer: string | undefined;
  readonly oidcAudience: string | undefined;
  /** Path of the permission mapping document (YAML or JSON). */
  readonly permissionsPath: string | undefined;
  readonly oidcClockSkewSeconds: number;
  readonly tokenCacheSize: number;
  readonly tokenCacheTtlMs: number;
  /** How long a verified API key is believed without a lookup; a revocation elsewhere waits this long. */
  readonly apiKeyCacheTtlMs: number;
  readonly jwksCooldownMs: number;
  /** SNS topics whose messages /integrations/aws/sns accepts. */
  readonly snsTopics: readonly string[];
  /** Hosts SigningCertURL and SubscribeURL may point at. */
  readonly snsCertHost: RegExp;
  /** An extra CA (PEM) trusted when fetching from those hosts; for private endpoints and tests. */
  readonly snsCaFile: string | undefined;
  /** Path of the routing file for approvals that arrive from AWS. */
  readonly routesPath: string | undefined;
  /** Hosts a CloudFormation WaitHandle or custom resource ResponseURL may point at. */
  readonly cfnUrlHost: RegExp;
  /** Path of the named policies file. */
  readonly policiesPath: string | undefined;
  /** OpenAI-compatible chat-completions endpoint for `ai` stages (base URL, e.g. https://api.openai.com/v1). */
  readonly aiUrl: string | undefined;
  readonly aiKey: string | undefined;
  readonly aiModel: string | undefined;
  /** How long one AI review may take before the stage hands over. */
  readonly aiTimeoutMs: number;
  /** How identities are compared beyond case, Unicode and IDN: plus-addressing per domain. */
  readonly identity: IdentityRules;
  /** The GitHub App's webhook secret; unset, /integrations/github/webhook refuses everything. */
  readonly githubWebhookSecret: string | undefined;
  readonly githubAppId: string | undefined;
  /** PEM file of the GitHub App's private key. */
  readonly githubAppPrivateKeyFile: string | undefined;
  /** GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3); answers go only under it. */
  readonly githubApiUrl: string;
  /** Slack's bot token (xoxb-…): Slack is a channel only when it and the signing secret are set. */
  readonly slackBotToken: string | undefined;
  /** Verifies interaction requests (Slack's v0 signature). */
  readonly slackSigningSecret: string | undefined;
  /** Base URL of Slack's Web API (GovSlack, a proxy, or a stand-in in tests). */
  readonly slackApiUrl: string;
  /** The web app's sign-in: an OpenID Provider (authorization code + PKCE); unset, mailed links. */
  readonly webOidc: { issuer: string; clientId: string; clientSecret: string } | undefined;
  /** A web session ends after this long without a request, and in any case after `webSessionMaxMs`. */
  readonly webSessionIdleMs: number;
  readonly webSessionMaxMs: number;
  /** How long a mailed sign-in link works. */
  readonly signInLinkTtlMs: number;
}

type Env = Record<string, string | undefined>;

function duration(env: Env, name: string, fallback: string): number {
  const raw = env[name] ?? fallback;
  const ms = parseDuration(raw);
  if (ms === undefined)
    throw new SignoffError(
      'invalid_input',
      `${name}="${raw}" is not a duration: use 90s, 15m, 1h, 7d or seconds.`,
    );
  return ms;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new SignoffError('invalid_input', `${name}="${raw}" must be on or off.`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new SignoffError('invalid_input', `${name}="${raw}" must be a whole number from ${min} to ${max}.`);
  return value;
}

function webOidc(env: Env): Config['webOidc'] {
  const issuer = url(env, 'SIGNOFF_WEB_OIDC_ISSUER', ['https:', 'http:']);
  const clientId = env.SIGNOFF_WEB_OIDC_CLIENT_ID || undefined;
  const clientSecret = env.SIGNOFF_WEB_OIDC_CLIENT_SECRET || undefined;
  if (!issuer && !clientId && !clientSecret) return undefined;
  if (!issuer || !clientId || !clientSecret)
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_WEB_OIDC_ISSUER, SIGNOFF_WEB_OIDC_CLIENT_ID and SIGNOFF_WEB_OIDC_CLIENT_SECRET go together: set all three or none.',
    );
  return { issuer, clientId, clientSecret };
}

function identifier(env: Env, name: string, fallback: string): string {
  const value = env[name] || fallback;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value))
    throw new SignoffError(
      'invalid_input',
      `${name}="${value}" must be a lowercase SQL identifier such as signoff.`,
    );
  return value;
}

/** A host pattern, always matched against the whole host name (an unanchored one would let evil.net in). */
function pattern(env: Env, name: string, fallback: string): RegExp {
  const raw = env[name] || fallback;
  try {
    return new RegExp(`^(?:${raw})$`);
  } catch {
    throw new SignoffError('invalid_input', `${name}="${raw}" is not a regular expression.`);
  }
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SignoffError('invalid_input', `${name} is not a URL.`);
  }
  if (!protocols.includes(parsed.protocol))
    throw new SignoffError('invalid_input', `${name} must use ${protocols.join(' or ')}.`);
  return raw;
}

/** SIGNOFF_TRUST_PROXY: unset (none), a number of hops, or a comma list of addresses and CIDRs. */
function trustProxy(env: Env): false | number | string[] {
  const raw = env.SIGNOFF_TRUST_PROXY?.trim();
  if (!raw) return false;
  if (/^\d+$/.test(raw)) return integer(env, 'SIGNOFF_TRUST_PROXY', 0, 1, 20);
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const problems = entries.flatMap((entry) => {
    const parsed = parseCidr(entry);
    return parsed.ok ? [] : [parsed.problem];
  });
  if (problems.length > 0)
    throw new SignoffError(
      'invalid_input',
      `SIGNOFF_TRUST_PROXY must be a number of hops, or addresses and CIDRs (e.g. 10.0.0.0/8): ${problems.join('; ')}.`,
    );
  return entries;
}

/** Mail domains where `local+tag@` reaches `local@`: lowercase, IDN in ASCII, or `*`. */
function plusAddressDomains(env: Env): string[] {
  const domains = (env.SIGNOFF_PLUS_ADDRESS_DOMAINS ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => (d === '*' ? d : normalizeIdentity(`x@${d}`).slice(2)));
  for (const domain of domains)
    if (domain !== '*' && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain))
      throw new SignoffError(
        'invalid_input',
        `SIGNOFF_PLUS_ADDRESS_DOMAINS="${domain}" is not a mail domain (e.g. example.com), or * for all.`,
      );
  return domains;
}

function allowList(env: Env, name: string): AllowList | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const parsed = parseAllowList(raw);
  if (!parsed.ok)
    throw new SignoffError(
      'invalid_input',
      `${name} must be a comma list of host names and address ranges: ${parsed.problems.join('; ')}.`,
    );
  return parsed.list;
}

/** The GitHub App settings go together: a webhook secret is useless without a way to answer. */
function checkGitHub(config: Config): void {
  const given = [config.githubWebhookSecret, config.githubAppId, config.githubAppPrivateKeyFile];
  if (given.every((v) => v === undefined)) return;
  if (given.some((v) => v === undefined))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_GITHUB_WEBHOOK_SECRET, SIGNOFF_GITHUB_APP_ID and SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE go together: set all three or none.',
    );
  if (!/^\d{1,20}$/.test(config.githubAppId ?? ''))
    throw new SignoffError('invalid_input', "SIGNOFF_GITHUB_APP_ID must be the App's numeric id.");
  if ((config.githubWebhookSecret ?? '').length < 16)
    throw new SignoffError('invalid_input', 'SIGNOFF_GITHUB_WEBHOOK_SECRET must be at least 16 characters.');
  if (/^[a-z]+:\/\/[^/]*@/i.test(config.githubApiUrl) || /[?#]/.test(config.githubApiUrl))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_GITHUB_API_URL must be a plain base URL, without credentials.',
    );
}

/** SIGNOFF_INSTANCE_NAME: one line of plain text, or the public URL's host. */
function instanceName(env: Env, publicUrl: string): string {
  const raw = env.SIGNOFF_INSTANCE_NAME?.trim();
  if (!raw) return new URL(publicUrl).host;
  if (raw.length > 100 || !isSingleLine(raw))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_INSTANCE_NAME must be one line of at most 100 characters, such as "signoff (production)".',
    );
  return raw;
}

/** The database connection settings of a config. */
export function databaseOptions(config: Config, onBackgroundError?: (error: Error) => void) {
  return {
    url: config.databaseUrl,
    schema: config.databaseSchema,
    poolSize: config.databasePoolSize,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    preparedStatements: config.databasePreparedStatements,
    onBackgroundError,
  };
}

/** The inbound connection bounds; the headers' is never longer than the whole request's. */
function httpServerTimeouts(env: Env): Config['httpServerTimeouts'] {
  const bounds = {
    headersMs: duration(env, 'SIGNOFF_HTTP_HEADERS_TIMEOUT', '20s'),
    requestMs: duration(env, 'SIGNOFF_HTTP_REQUEST_TIMEOUT', '30s'),
    keepAliveMs: duration(env, 'SIGNOFF_HTTP_KEEP_ALIVE_TIMEOUT', '72s'),
  };
  for (const [name, ms] of [
    ['SIGNOFF_HTTP_HEADERS_TIMEOUT', bounds.headersMs],
    ['SIGNOFF_HTTP_REQUEST_TIMEOUT', bounds.requestMs],
    ['SIGNOFF_HTTP_KEEP_ALIVE_TIMEOUT', bounds.keepAliveMs],
  ] as const)
    if (ms < 1000)
      throw new SignoffError('invalid_input', `${name} must be at least 1s: 0 would mean no limit at all.`);
  return { ...bounds, headersMs: Math.min(bounds.headersMs, bounds.requestMs) };
}

/** Reads and checks the configuration; a mistake throws an error that names the variable. */
export function loadConfig(env: Env = process.env): Config {
  // `[::]` is how URLs write an IPv6 host; listening wants it bare.
  const host = (env.SIGNOFF_HOST || '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const port = integer(env, 'SIGNOFF_PORT', 8080, 0, 65535);
  const publicUrl = (
    url(env, 'SIGNOFF_PUBLIC_URL', ['http:', 'https:']) ??
    `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  ).replace(/\/+$/, '');
  const adminKey = env.SIGNOFF_ADMIN_KEY || undefined;
  if (adminKey !== undefined && !API_KEY_PATTERN.test(adminKey))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_ADMIN_KEY must be 20 to 200 letters, digits, "_" or "-" (for example: sk_ and 40 random characters).',
    );
  const metricsToken = env.SIGNOFF_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !API_KEY_PATTERN.test(metricsToken))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_METRICS_TOKEN must be 20 to 200 letters, digits, "_" or "-" (for example: 40 random characters).',
    );
  const config: Config = {
    host,
    port,
    publicUrl,
    instanceName: instanceName(env, publicUrl),
    databaseUrl: env.SIGNOFF_DATABASE_URL || 'sqlite:./data/signoff.db',
    databaseSchema: identifier(env, 'SIGNOFF_DATABASE_SCHEMA', 'public'),
    databasePoolSize: integer(env, 'SIGNOFF_DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseStatementTimeoutMs: duration(env, 'SIGNOFF_DATABASE_STATEMENT_TIMEOUT', '30s'),
    databasePreparedStatements: onOff(env, 'SIGNOFF_DATABASE_PREPARED_STATEMENTS', true),
    adminKey,
    metricsToken,
    smtpUrl: url(env, 'SIGNOFF_SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: env.SIGNOFF_MAIL_FROM || 'signoff <signoff@localhost>',
    linkTtlMs: env.SIGNOFF_LINK_TTL ? duration(env, 'SIGNOFF_LINK_TTL', '') : undefined,
    defaultTimeoutMs: duration(env, 'SIGNOFF_DEFAULT_TIMEOUT', '7d'),
    maxTimeoutMs: duration(env, 'SIGNOFF_MAX_TIMEOUT', '30d'),
    grantLimits: {
      maxUses: integer(env, 'SIGNOFF_GRANT_MAX_USES', 0, 0, 1000),
      maxDurationMs: duration(env, 'SIGNOFF_GRANT_MAX_DURATION', '8h'),
    },
    bodyLimitBytes: integer(env, 'SIGNOFF_BODY_LIMIT', 64 * 1024, 1024, 10 * 1024 * 1024),
    httpServerTimeouts: httpServerTimeouts(env),
    linkRateLimit: integer(env, 'SIGNOFF_LINK_RATE_LIMIT', 120, 1, 1_000_000),
    trustProxy: trustProxy(env),
    logLevel: env.SIGNOFF_LOG_LEVEL || 'info',
    httpTimeoutMs: duration(env, 'SIGNOFF_HTTP_TIMEOUT', '10s'),
    webhookAllow: allowList(env, 'SIGNOFF_WEBHOOK_ALLOW'),
    retryBaseMs: duration(env, 'SIGNOFF_RETRY_BASE', '2s'),
    retryMaxMs: duration(env, 'SIGNOFF_RETRY_MAX', '1h'),
    deadLetterAfterMs: duration(env, 'SIGNOFF_DEAD_LETTER_AFTER', '48h'),
    pollIntervalMs: duration(env, 'SIGNOFF_POLL_INTERVAL', '1s'),
    retentionMs: duration(env, 'SIGNOFF_RETENTION', '7d'),
    oidcIssuer: url(env, 'SIGNOFF_OIDC_ISSUER', ['https:', 'http:']),
    oidcAudience: env.SIGNOFF_OIDC_AUDIENCE || undefined,
    permissionsPath: env.SIGNOFF_PERMISSIONS || undefined,
    oidcClockSkewSeconds: duration(env, 'SIGNOFF_OIDC_CLOCK_SKEW', '30s') / 1000,
    tokenCacheSize: integer(env, 'SIGNOFF_TOKEN_CACHE_SIZE', 10_000, 1, 10_000_000),
    tokenCacheTtlMs: duration(env, 'SIGNOFF_TOKEN_CACHE_TTL', '5m'),
    apiKeyCacheTtlMs: duration(env, 'SIGNOFF_API_KEY_CACHE_TTL', '10s'),
    jwksCooldownMs: duration(env, 'SIGNOFF_JWKS_COOLDOWN', '30s'),
    snsTopics: (env.SIGNOFF_SNS_TOPICS ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    // SNS's regional endpoints only. Any label would also match S3 bucket hosts (a bucket named
    // "sns" is sns.s3.amazonaws.com) that anyone can serve a certificate from.
    snsCertHost: pattern(
      env,
      'SIGNOFF_SNS_CERT_HOST',
      '^sns\\.[a-z]{2}(-gov)?-[a-z]+-\\d{1,2}\\.amazonaws\\.com(\\.cn)?$',
    ),
    snsCaFile: env.SIGNOFF_SNS_CA_FILE || undefined,
    routesPath: env.SIGNOFF_ROUTES || undefined,
    cfnUrlHost: pattern(
      env,
      'SIGNOFF_CFN_URL_HOST',
      '^cloudformation-(custom-resource-response|waitcondition)-[a-z0-9-]+\\.s3([.-][a-z0-9-]+)*\\.amazonaws\\.com(\\.cn)?$',
    ),
    policiesPath: env.SIGNOFF_POLICIES || undefined,
    aiUrl: url(env, 'SIGNOFF_AI_URL', ['https:', 'http:']),
    aiKey: env.SIGNOFF_AI_KEY || undefined,
    aiModel: env.SIGNOFF_AI_MODEL || undefined,
    aiTimeoutMs: duration(env, 'SIGNOFF_AI_TIMEOUT', '60s'),
    identity: { plusAddressDomains: plusAddressDomains(env) },
    githubWebhookSecret: env.SIGNOFF_GITHUB_WEBHOOK_SECRET || undefined,
    githubAppId: env.SIGNOFF_GITHUB_APP_ID || undefined,
    githubAppPrivateKeyFile: env.SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE || undefined,
    githubApiUrl: (
      url(env, 'SIGNOFF_GITHUB_API_URL', ['https:', 'http:']) ?? 'https://api.github.com'
    ).replace(/\/+$/, ''),
    slackBotToken: env.SIGNOFF_SLACK_BOT_TOKEN || undefined,
    slackSigningSecret: env.SIGNOFF_SLACK_SIGNING_SECRET || undefined,
    slackApiUrl: `${(url(env, 'SIGNOFF_SLACK_API_URL', ['https:', 'http:']) ?? 'https://slack.com/api').replace(/\/+$/, '')}/`,
    webOidc: webOidc(env),
    webSessionIdleMs: duration(env, 'SIGNOFF_WEB_SESSION_IDLE', '12h'),
    webSessionMaxMs: duration(env, 'SIGNOFF_WEB_SESSION_MAX', '7d'),
    signInLinkTtlMs: duration(env, 'SIGNOFF_WEB_SIGN_IN_TTL', '15m'),
  };
  if (config.webSessionIdleMs <= 0 || config.webSessionIdleMs > config.webSessionMaxMs)
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_WEB_SESSION_IDLE must be more than 0 and at most SIGNOFF_WEB_SESSION_MAX.',
    );
  if (config.signInLinkTtlMs <= 0 || config.signInLinkTtlMs > 60 * 60_000)
    throw new SignoffError('invalid_input', 'SIGNOFF_WEB_SIGN_IN_TTL must be more than 0 and at most 1h.');
  if (config.oidcClockSkewSeconds > 60)
    throw new SignoffError('invalid_input', 'SIGNOFF_OIDC_CLOCK_SKEW must be at most 60s.');
  if (config.linkTtlMs !== undefined && config.linkTtlMs <= 0)
    throw new SignoffError('invalid_input', 'SIGNOFF_LINK_TTL must be more than 0.');
  if (config.aiUrl && /^[a-z]+:\/\/[^/]*@/i.test(config.aiUrl))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_AI_URL must not hold credentials: put the key in SIGNOFF_AI_KEY.',
    );
  if (config.aiUrl && !config.aiModel)
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_AI_URL is set: name the model too, in SIGNOFF_AI_MODEL.',
    );
  checkGitHub(config);
  if (Boolean(config.slackBotToken) !== Boolean(config.slackSigningSecret))
    throw new SignoffError(
      'invalid_input',
      'Slack needs both SIGNOFF_SLACK_BOT_TOKEN and SIGNOFF_SLACK_SIGNING_SECRET (or neither).',
    );
  if (config.defaultTimeoutMs > config.maxTimeoutMs)
    throw new SignoffError('invalid_input', 'SIGNOFF_DEFAULT_TIMEOUT must not exceed SIGNOFF_MAX_TIMEOUT.');
  return config;
}

import { type AiConfig, readAiConfig } from './config/ai.js';
import { type ApprovalsConfig, readApprovalsConfig } from './config/approvals.js';
import { type AwsConfig, readAwsConfig } from './config/aws.js';
import { type DatabaseConfig, readDatabaseConfig } from './config/database.js';
import { type GitHubConfig, readGitHubConfig } from './config/github.js';
import { type GrantsConfig, readGrantsConfig } from './config/grants.js';
import { type IdentityConfig, readIdentityConfig } from './config/identity.js';
import { type MailConfig, readMailConfig } from './config/mail.js';
import { type OutboxConfig, readOutboxConfig } from './config/outbox.js';
import type { Env } from './config/read.js';
import { readServerConfig, type ServerConfig } from './config/server.js';
import { readSlackConfig, type SlackConfig } from './config/slack.js';
import { readWebConfig, type WebConfig } from './config/web.js';

/**
 * Everything signoff can be told, typed. Read once at start from environment variables, one
 * section per concern (`src/config/`): each reads its settings and checks the rules between them.
 */
export interface Config
  extends ServerConfig,
    DatabaseConfig,
    MailConfig,
    ApprovalsConfig,
    GrantsConfig,
    OutboxConfig,
    IdentityConfig,
    AwsConfig,
    AiConfig,
    GitHubConfig,
    SlackConfig,
    WebConfig {}

/** Reads and checks the configuration; a mistake throws an error that names the variable. */
export function loadConfig(env: Env = process.env): Config {
  return {
    ...readServerConfig(env),
    ...readDatabaseConfig(env),
    ...readMailConfig(env),
    ...readApprovalsConfig(env),
    ...readGrantsConfig(env),
    ...readOutboxConfig(env),
    ...readIdentityConfig(env),
    ...readAwsConfig(env),
    ...readAiConfig(env),
    ...readGitHubConfig(env),
    ...readSlackConfig(env),
    ...readWebConfig(env),
  };
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

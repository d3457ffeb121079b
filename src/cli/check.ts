import { sql } from 'kysely';
import { smtpServerName } from '../channels/mailer.js';
import { probeSmtp } from '../channels/smtp-check.js';
import { type Config, databaseOptions } from '../config.js';
import { SignoffError } from '../core/errors.js';
import { loadDeclarations } from '../declarations.js';
import { type Db, openDatabase, redactUrl } from '../store/database.js';
import { type Output, oneLine } from './output.js';
import { findMisspelledSettings, loadConfigNotingSettings } from './settings.js';
import { describeListenError, listenAddress, probeListen, publicUrlProblem } from './startup-checks.js';

const PROBE_MS = 5000;

async function checkDatabase(config: Config): Promise<string | undefined> {
  let db: Db | undefined;
  try {
    db = openDatabase({ ...databaseOptions(config), statementTimeoutMs: PROBE_MS });
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${PROBE_MS / 1000}s`)), PROBE_MS).unref(),
      ),
    ]);
    return undefined;
  } catch (error) {
    // A setting that cannot work (a path SQLite cannot have) says so in its own words.
    if (error instanceof SignoffError && error.code === 'invalid_input') return oneLine(error);
    return `${redactUrl(config.databaseUrl)} is not reachable: ${oneLine(error)}`;
  } finally {
    await db?.destroy().catch(() => {});
  }
}

/** Whether serve could listen where it is told to, in serve's words when not. */
async function checkListen(config: Config): Promise<string | undefined> {
  try {
    await probeListen(config);
    return undefined;
  } catch (error) {
    return describeListenError(error, config) ?? oneLine(error);
  }
}

async function checkAi(aiUrl: string): Promise<string | undefined> {
  try {
    // Any HTTP answer will do: this asks whether something listens, not whether a model is loaded.
    await fetch(aiUrl, { method: 'GET', signal: AbortSignal.timeout(PROBE_MS) });
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return `${new URL(aiUrl).host} is not reachable: ${oneLine(cause ?? error)}`;
  }
}

/**
 * `signoff check`: validates the configuration serve would start with (environment, policies,
 * routes, permissions, the listen address) and reaches what it depends on (database, SMTP, AI
 * endpoint). Prints one line per check, `ok` or `error`, and returns 1 when any failed.
 */
export async function checkConfiguration(
  out: Output,
  env: Record<string, string | undefined>,
): Promise<number> {
  let problems = 0;
  const report = (what: string, problem: string | undefined) => {
    if (problem) problems++;
    out.print(problem ? `error ${what}: ${problem}` : `ok    ${what}`);
  };
  let config: Config;
  try {
    const loaded = loadConfigNotingSettings(env);
    config = loaded.config;
    const typos = findMisspelledSettings(env, loaded.known);
    for (const { name, likely } of typos)
      report('environment', `${name} is not a setting signoff knows; did you mean ${likely}?`);
    const unopenable = publicUrlProblem(config, env);
    // serve refuses to start on this, so nothing further is checked (nor is every address bound).
    if (unopenable) {
      report('environment', unopenable);
      return 1;
    }
    if (typos.length === 0) report('environment', undefined);
  } catch (error) {
    // Nothing else can be checked without a configuration.
    report('environment', oneLine(error));
    return 1;
  }
  try {
    loadDeclarations(config);
    report('policies, routes and permissions', undefined);
  } catch (error) {
    report('policies, routes and permissions', oneLine(error));
  }
  report(`listen ${listenAddress(config)}`, await checkListen(config));
  const [database, smtp, ai] = await Promise.all([
    checkDatabase(config),
    config.smtpUrl ? probeSmtp(config.smtpUrl, PROBE_MS) : undefined,
    config.aiUrl ? checkAi(config.aiUrl) : undefined,
  ]);
  report('database', database);
  if (config.smtpUrl) {
    const host = smtpServerName(config.smtpUrl);
    report(`smtp ${host}`, smtp && `${host} did not answer: ${smtp}`);
  }
  if (config.aiUrl) report('ai endpoint', ai);
  return problems === 0 ? 0 : 1;
}

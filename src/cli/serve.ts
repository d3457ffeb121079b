import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { smtpServerName } from '../channels/mailer.js';
import { probeSmtp } from '../channels/smtp-check.js';
import type { Config } from '../config.js';
import { SignoffError } from '../core/errors.js';
import { describeWebhookPolicy } from '../egress/address-policy.js';
import type { Signoff } from '../server.js';
import { redactUrl } from '../store/database.js';
import { type Output, oneLine } from './output.js';
import { findMisspelledSettings, loadConfigNotingSettings } from './settings.js';
import { describeListenError, probeListen, publicUrlProblem } from './startup-checks.js';
import { EXIT } from './wait.js';

/** How long a start that has failed may take to let go of what it opened. */
const GIVE_UP_MS = 1500;
const SMTP_PROBE_MS = 5000;

/** One line for a failed start, in the operator's terms. */
function describeStartFailure(error: unknown, config: Config | undefined): string {
  return (config && describeListenError(error, config)) ?? oneLine(error);
}

function databaseLine(config: Config): string {
  return config.databaseUrl.startsWith('sqlite:')
    ? `database: ${config.databaseUrl}`
    : `database: ${redactUrl(config.databaseUrl)} (schema ${config.databaseSchema}, pool ${config.databasePoolSize}, statement timeout ${config.databaseStatementTimeoutMs} ms)`;
}

/**
 * Shows a generated admin key (on stderr, or in SIGNOFF_ADMIN_KEY_FILE with mode 0600), then
 * stores it: a key that could not be shown is never stored.
 */
async function issueAdminKey(signoff: Signoff, out: Output, keyFile: string | undefined): Promise<string[]> {
  const unissued = signoff.unissuedAdminKey;
  if (!unissued)
    return [
      'admin key: none generated (one exists or SIGNOFF_ADMIN_KEY is set); make another with',
      '    signoff keys create --permission admin --name "admin 2"',
    ];
  if (keyFile) {
    await writeFile(keyFile, `${unissued.secret}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
      throw new Error(
        (error as { code?: string }).code === 'EEXIST'
          ? `SIGNOFF_ADMIN_KEY_FILE ${keyFile} already exists; it is never overwritten (move it away, or set SIGNOFF_ADMIN_KEY)`
          : `cannot write SIGNOFF_ADMIN_KEY_FILE ${keyFile}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    });
    await unissued.store();
    return [`admin key: generated and written to ${keyFile} (mode 0600); it is not shown anywhere else`];
  }
  out.log(
    [
      '',
      'An admin API key was generated. It is shown only this once; store it now:',
      '',
      `    SIGNOFF_TOKEN=${unissued.secret}`,
      '',
    ].join('\n'),
  );
  await unissued.store();
  return [];
}

/**
 * `signoff serve`: migrate, listen, show (then store) a generated admin key, run until
 * SIGTERM/SIGINT. JSON logs go to stdout; everything meant for people (this banner, the admin
 * key, mails printed without SMTP) to stderr. A start that fails says why in one line and exits 3, as
 * every command does on an error.
 */
export async function serve(
  out: Output,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let config: Config | undefined;
  let signoff: Signoff | undefined;
  let stopped: Promise<string>;
  try {
    const loaded = loadConfigNotingSettings(env);
    config = loaded.config;
    for (const { name, likely } of findMisspelledSettings(env, loaded.known))
      out.log(`warning: ${name} is not a setting signoff knows; did you mean ${likely}?`);
    const unopenable = publicUrlProblem(config, env);
    if (unopenable) throw new SignoffError('invalid_input', unopenable);
    await probeListen(config);
    const { createSignoff } = await import('../server.js');
    signoff = await createSignoff(config);
    await signoff.app.listen({ host: config.host, port: config.port });
    const { port } = signoff.app.server.address() as AddressInfo;
    const keyLines = await issueAdminKey(signoff, out, env.SIGNOFF_ADMIN_KEY_FILE || undefined);
    // Before the banner: whoever reads "listening" may stop signoff at once, and a SIGTERM
    // that came before its handler would kill the process instead of closing it.
    stopped = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    out.log(
      [
        `signoff is listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port} (links use ${config.publicUrl})`,
        databaseLine(config),
        config.smtpUrl
          ? `mail: SMTP via ${smtpServerName(config.smtpUrl)}`
          : 'mail: SIGNOFF_SMTP_URL is not set, so mails and their links are printed here (stderr)',
        describeWebhookPolicy(config.webhookAllow),
        ...keyLines,
      ].join('\n'),
    );
  } catch (error) {
    out.log(`error: signoff did not start: ${describeStartFailure(error, config)}`);
    // Whatever is left open (a pool still connecting, a timer) must not keep a failed start alive.
    setTimeout(() => process.exit(EXIT.error), GIVE_UP_MS).unref();
    await signoff?.close().catch(() => {});
    return EXIT.error;
  }
  if (config.smtpUrl) {
    const host = smtpServerName(config.smtpUrl);
    // A warning, not a refusal: mail is retried, and the server may come up after signoff.
    void probeSmtp(config.smtpUrl, SMTP_PROBE_MS).then((failure) => {
      if (failure)
        out.log(`warning: the SMTP server ${host} did not answer: ${failure}; mails will be retried`);
    });
  }
  const signal = await stopped;
  signoff.services.logger.info({ signal }, 'shutting down');
  await signoff.close();
  return 0;
}

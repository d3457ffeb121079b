import { loadConfig } from '../config.js';
import { createSignoff } from '../server.js';
import { redactUrl } from '../store/database.js';

/** `signoff serve`: migrate, make sure an admin key exists, listen until SIGTERM/SIGINT. */
export async function serve(): Promise<number> {
  const config = loadConfig();
  const signoff = await createSignoff(config);
  await signoff.app.listen({ host: config.host, port: config.port });
  const lines = [
    `signoff is listening on http://${config.host}:${config.port} (links use ${config.publicUrl})`,
    config.databaseUrl.startsWith('sqlite:')
      ? `database: ${config.databaseUrl}`
      : `database: ${redactUrl(config.databaseUrl)} (schema ${config.databaseSchema}, pool ${config.databasePoolSize}, statement timeout ${config.databaseStatementTimeoutMs} ms)`,
    config.smtpUrl
      ? 'mail: SMTP'
      : 'mail: SIGNOFF_SMTP_URL is not set, so mails and their links are printed here',
  ];
  if (signoff.generatedAdminKey) {
    lines.push(
      '',
      'An admin API key was generated. It is shown only this once; store it now:',
      '',
      `    SIGNOFF_TOKEN=${signoff.generatedAdminKey}`,
      '',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      signoff.services.logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await signoff.close();
  return 0;
}

import nodemailer from 'nodemailer';

/** Where the configured SMTP server is, for messages: never its credentials. */
export function smtpHost(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  return `${url.hostname}:${url.port || (url.protocol === 'smtps:' ? '465' : '25')}`;
}

/**
 * Connects to the SMTP server and says EHLO (and logs in, when the URL has credentials), within
 * `timeoutMs`. Resolves with the reason it failed, or undefined when the server answered.
 */
export async function probeSmtp(smtpUrl: string, timeoutMs: number): Promise<string | undefined> {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  try {
    await transport.verify();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    transport.close();
  }
}

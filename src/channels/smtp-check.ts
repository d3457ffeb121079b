import { createSmtpTransport } from './mailer.js';

/**
 * Connects to the SMTP server and says EHLO (and logs in, when the URL has credentials), within
 * `timeoutMs`. Resolves with the reason it failed, or undefined when the server answered.
 */
export async function probeSmtp(smtpUrl: string, timeoutMs: number): Promise<string | undefined> {
  const transport = await createSmtpTransport(smtpUrl, timeoutMs);
  try {
    await transport.verify();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    transport.close();
  }
}

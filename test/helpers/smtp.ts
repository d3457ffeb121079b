import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { PATIENCE_MS } from './receiver.js';

export interface ReceivedMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly parsed: ParsedMail;
}

/**
 * A real SMTP server on loopback that keeps every message it receives; on `port` when given (a
 * server that comes back where one was down), else on any free one.
 */
export async function startSmtpServer(port = 0) {
  const mails: ReceivedMail[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const to = Array.isArray(parsed.to) ? parsed.to[0]?.text : parsed.to?.text;
          mails.push({
            to: to ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            parsed,
          });
          for (const wake of waiters.splice(0)) wake();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const listening = (server.server.address() as AddressInfo).port;

  /** Waits until `count` mails match, or fails after `timeoutMs`. */
  async function waitForMails(predicate: (m: ReceivedMail) => boolean, count = 1, timeoutMs = PATIENCE_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = mails.filter(predicate);
      if (found.length >= count) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`expected ${count} mail(s), got ${found.length} (of ${mails.length} in all)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return {
    url: `smtp://127.0.0.1:${listening}`,
    mails,
    waitForMails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decision link in a mail's text part. */
export function linkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/d\/[A-Za-z0-9_-]{43}/.exec(mail.text);
  if (!match) throw new Error(`no decision link in mail: ${mail.text}`);
  return match[0];
}

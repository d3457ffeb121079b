import nodemailer from 'nodemailer';
import { SignoffError } from '../core/errors.js';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** The port through which signoff sends mail. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** Sends mail over SMTP with nodemailer; every send is bounded by a timeout. */
export function createSmtpMailer(smtpUrl: string, from: string, timeoutMs: number): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    async send(message) {
      try {
        await transport.sendMail({ from, ...message });
      } catch (error) {
        throw new SignoffError('upstream_failed', `SMTP delivery to ${message.to} failed.`, { cause: error });
      }
    },
    close: () => transport.close(),
  };
}

/**
 * With no SMTP server configured, messages (and their links) are printed so that
 * `npm start` works with nothing set up.
 */
export function createConsoleMailer(write: (text: string) => void): Mailer {
  return {
    async send(message) {
      write(
        [
          '----- signoff mail (SIGNOFF_SMTP_URL is not set, so it is printed here) -----',
          `To: ${message.to}`,
          `Subject: ${message.subject}`,
          '',
          message.text,
          '-----',
          '',
        ].join('\n'),
      );
    },
    close: () => {},
  };
}

import type nodemailer from 'nodemailer';
import { SignoffError } from '../core/errors.js';
import { PermanentDeliveryError } from '../outbox/errors.js';
import type { Mailer } from '../ports.js';

/** Where mail goes, as errors name it: host and port, never the credentials in the URL. */
export function smtpServerName(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  // nodemailer's defaults when the URL names no port.
  return `${url.hostname}:${url.port || (url.protocol === 'smtps:' ? '465' : '587')}`;
}

/** What nodemailer attaches to its errors. */
interface SmtpErrorFields {
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly command?: unknown;
  readonly response?: unknown;
  readonly permanent?: unknown;
}

/** A server's reply on one line, cut short: it goes into logs, the audit trail and the view. */
function oneLine(reply: string): string {
  return reply
    .replace(/\p{Cc}+/gu, ' ')
    .trim()
    .slice(0, 300);
}

const REFUSED_STEP: Record<string, string> = {
  'MAIL FROM': 'the sender',
  'RCPT TO': 'the recipient',
  DATA: 'the message',
};

/** The parts of a nodemailer error that say what went wrong, as text ('' when absent). */
function smtpErrorParts(error: unknown) {
  const fields: SmtpErrorFields = typeof error === 'object' && error !== null ? error : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    code: text(fields.code),
    cause: text(fields.originalCode),
    command: text(fields.command),
    reply: oneLine(text(fields.response)),
    permanent: fields.permanent === true,
  };
}

/** Why the server could not be reached or spoken to, if that is what failed. */
function connectionFailure(
  { code, cause, reply }: ReturnType<typeof smtpErrorParts>,
  server: string,
  timeoutMs: number,
): string | undefined {
  if (cause === 'ECONNREFUSED') return `connection refused by ${server}`;
  if (code === 'EDNS' || cause === 'ENOTFOUND' || cause === 'EAI_AGAIN')
    return `the name of ${server} could not be resolved`;
  if (code === 'ETIMEDOUT') return `no answer from ${server} within ${timeoutMs / 1000}s`;
  if (code === 'EAUTH') return `${server} refused the login${reply ? `: ${reply}` : ''}`;
  if (code === 'ETLS') return `TLS with ${server} failed`;
  return undefined;
}

/**
 * Why a send failed, in words an operator can act on, and whether retrying can help (the
 * server refused the sender, recipient or message with a 5xx). Built from the error's codes
 * and the server's own reply: the operator's server, never a secret of signoff's.
 */
export function describeSmtpFailure(
  error: unknown,
  server: string,
  timeoutMs: number,
): { reason: string; permanent: boolean } {
  const parts = smtpErrorParts(error);
  const { code, cause, reply } = parts;
  const refused = REFUSED_STEP[parts.command];
  const temporary = (reason: string) => ({ reason, permanent: false });
  const connection = connectionFailure(parts, server, timeoutMs);
  if (connection) return temporary(connection);
  if (refused && reply)
    return { reason: `${server} refused ${refused}: ${reply}`, permanent: parts.permanent };
  if (reply) return temporary(`${server} answered: ${reply}`);
  if (cause === 'ECONNRESET' || code === 'ECONNECTION') return temporary(`${server} closed the connection`);
  return temporary(`sending through ${server} failed${cause || code ? ` (${cause || code})` : ''}`);
}

/**
 * A nodemailer transport for the SMTP URL, each step (connect, greeting, socket) bounded.
 * nodemailer is loaded here, by the first mail or probe, rather than by every start.
 */
export async function createSmtpTransport(smtpUrl: string, timeoutMs: number) {
  const { default: mailer } = await import('nodemailer');
  return mailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
}

/** Sends mail over SMTP with nodemailer; every send is bounded by a timeout. */
export function createSmtpMailer(smtpUrl: string, from: string, timeoutMs: number): Mailer {
  let transport: ReturnType<typeof createSmtpTransport> | undefined;
  const server = smtpServerName(smtpUrl);
  return {
    async send(message) {
      transport ??= createSmtpTransport(smtpUrl, timeoutMs);
      try {
        const smtp = await transport;
        await smtp.sendMail({ from, ...message });
      } catch (error) {
        const { reason, permanent } = describeSmtpFailure(error, server, timeoutMs);
        // A recipient or message the server refuses for good is not retried for days.
        if (permanent) throw new PermanentDeliveryError(reason, { cause: error });
        throw new SignoffError('upstream_failed', reason, { cause: error });
      }
    },
    // A transport that could not be made has nothing to close (its sends said why).
    close: () => void transport?.then((smtp) => smtp.close()).catch(() => {}),
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

import { type Env, url } from './read.js';

/** How mail leaves signoff. */
export interface MailConfig {
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
}

/** The mail settings. */
export function readMailConfig(env: Env): MailConfig {
  return {
    smtpUrl: url(env, 'SIGNOFF_SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: env.SIGNOFF_MAIL_FROM || 'signoff <signoff@localhost>',
  };
}

import { html } from '../html.js';
import type { MailMessage } from '../ports.js';

/** What the sign-in mail says: to whom, its one-time link, and for how long the link works. */
export interface SignInMailInput {
  readonly to: string;
  readonly signInUrl: string;
  readonly lifetimeMs: number;
}

/** The mail with a one-time link that signs its reader in to the web app, as text and HTML. */
export function renderSignInMail({ to, signInUrl, lifetimeMs }: SignInMailInput): MailMessage {
  const minutes = Math.round(lifetimeMs / 60_000);
  return {
    to,
    subject: 'Sign in to signoff',
    text: `Someone (hopefully you) asked to sign in to signoff as ${to}.\n\nSign in: ${signInUrl}\n\nThe link works once, for ${minutes} minutes. Opening it signs nobody in: you press "Sign in" on the page it opens. If you did not ask, ignore this mail.\n`,
    html: html`<!doctype html><html><head><meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body><p>Someone (hopefully you) asked to sign in to signoff as <strong>${to}</strong>.</p>
<p><a href="${signInUrl}">Sign in to signoff</a></p>
<p>The link works once, for ${minutes} minutes. If you did not ask, ignore this mail.</p></body></html>`
      .value,
  };
}

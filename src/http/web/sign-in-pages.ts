import { html } from '../../html.js';
import { banner, renderPage } from './layout.js';

/** The sign-in page: a provider button when one is configured, else an address to mail a link to. */
export function renderSignIn(options: {
  csrfToken: string;
  next: string;
  oidc: boolean;
  notice?: string | undefined;
}): string {
  const form = options.oidc
    ? html`<form method="post" action="/sign-in/oidc"><input type="hidden" name="_csrf" value="${options.csrfToken}">
<input type="hidden" name="next" value="${options.next}">
<button type="submit" class="approve">Sign in with your identity provider</button></form>`
    : html`<form method="post" action="/sign-in"><input type="hidden" name="_csrf" value="${options.csrfToken}">
<input type="hidden" name="next" value="${options.next}">
<label for="email">Your email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="320">
<div class="actions"><button type="submit" class="approve">Email me a sign-in link</button></div></form>`;
  return renderPage({
    title: 'Sign in',
    body: html`<h1>Sign in to signoff</h1>${options.notice ? banner(options.notice) : ''}
<p>See what waits for your decision, what you asked for, and what was decided.</p>${form}`,
  });
}

/** After asking for a link: the same answer whether or not the address is known to anyone. */
export function renderSignInSent(email: string): string {
  return renderPage({
    title: 'Check your mail',
    body: html`<h1>Check your mail</h1>${banner(`If ${email} can receive mail, a sign-in link is on its way. It works once.`, 'ok')}`,
  });
}

/** What a sign-in link opens: who it signs in as, and a button. Opening it signs nobody in. */
export function renderSignInConfirm(options: { email: string; token: string; csrfToken: string }): string {
  return renderPage({
    title: 'Sign in',
    body: html`<h1>Sign in to signoff</h1>
<form method="post" action="/sign-in/${options.token}"><input type="hidden" name="_csrf" value="${options.csrfToken}">
<p>This link signs you in as <strong>${options.email}</strong>. It works once.</p>
<div class="actions"><button type="submit" class="approve">Sign in as ${options.email}</button></div></form>`,
  });
}

import { SignoffError } from '../core/errors.js';
import { duration, type Env, text, url } from './read.js';

/** The web app's sign-in, and how long a browser stays signed in. */
export interface WebConfig {
  /** The web app's sign-in: an OpenID Provider (authorization code + PKCE); unset, mailed links. */
  readonly webOidc: { issuer: string; clientId: string; clientSecret: string } | undefined;
  /** A web session ends after this long without a request, and in any case after `webSessionMaxMs`. */
  readonly webSessionIdleMs: number;
  readonly webSessionMaxMs: number;
  /** How long a mailed sign-in link works. */
  readonly signInLinkTtlMs: number;
}

function webOidc(env: Env): WebConfig['webOidc'] {
  const issuer = url(env, 'SIGNOFF_WEB_OIDC_ISSUER', ['https:', 'http:']);
  const clientId = text(env, 'SIGNOFF_WEB_OIDC_CLIENT_ID');
  const clientSecret = text(env, 'SIGNOFF_WEB_OIDC_CLIENT_SECRET');
  if (!issuer && !clientId && !clientSecret) return undefined;
  if (!issuer || !clientId || !clientSecret)
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_WEB_OIDC_ISSUER, SIGNOFF_WEB_OIDC_CLIENT_ID and SIGNOFF_WEB_OIDC_CLIENT_SECRET go together: set all three or none.',
    );
  return { issuer, clientId, clientSecret };
}

/** The web app's settings: idle sign-out comes before the last one, a sign-in link lasts an hour at most. */
export function readWebConfig(env: Env): WebConfig {
  const config = {
    webOidc: webOidc(env),
    webSessionIdleMs: duration(env, 'SIGNOFF_WEB_SESSION_IDLE', '12h'),
    webSessionMaxMs: duration(env, 'SIGNOFF_WEB_SESSION_MAX', '7d'),
    signInLinkTtlMs: duration(env, 'SIGNOFF_WEB_SIGN_IN_TTL', '15m'),
  };
  if (config.webSessionIdleMs <= 0 || config.webSessionIdleMs > config.webSessionMaxMs)
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_WEB_SESSION_IDLE must be more than 0 and at most SIGNOFF_WEB_SESSION_MAX.',
    );
  if (config.signInLinkTtlMs <= 0 || config.signInLinkTtlMs > 60 * 60_000)
    throw new SignoffError('invalid_input', 'SIGNOFF_WEB_SIGN_IN_TTL must be more than 0 and at most 1h.');
  return config;
}

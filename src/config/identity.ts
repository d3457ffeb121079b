import { SignoffError } from '../core/errors.js';
import { type IdentityRules, normalizeIdentity } from '../core/identity.js';
import { duration, type Env, integer, list, text, url } from './read.js';

/** Who a caller is: tokens and their issuers, API keys, the permission document, identities. */
export interface IdentityConfig {
  /** One accepted token issuer (more can be listed in the permission document). */
  readonly oidcIssuer: string | undefined;
  readonly oidcAudience: string | undefined;
  /** Path of the permission mapping document (YAML or JSON). */
  readonly permissionsPath: string | undefined;
  readonly oidcClockSkewSeconds: number;
  readonly tokenCacheSize: number;
  readonly tokenCacheTtlMs: number;
  /** How long a verified API key is believed without a lookup; a revocation elsewhere waits this long. */
  readonly apiKeyCacheTtlMs: number;
  readonly jwksCooldownMs: number;
  /** How identities are compared beyond case, Unicode and IDN: plus-addressing per domain. */
  readonly identity: IdentityRules;
}

/** Mail domains where `local+tag@` reaches `local@`: lowercase, IDN in ASCII, or `*`. */
function plusAddressDomains(env: Env): string[] {
  const domains = list(env, 'SIGNOFF_PLUS_ADDRESS_DOMAINS').map((d) =>
    d === '*' ? d : normalizeIdentity(`x@${d}`).slice(2),
  );
  for (const domain of domains)
    if (domain !== '*' && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain))
      throw new SignoffError(
        'invalid_input',
        `SIGNOFF_PLUS_ADDRESS_DOMAINS="${domain}" is not a mail domain (e.g. example.com), or * for all.`,
      );
  return domains;
}

/** The identity settings; a token's clock may be off by a minute at most. */
export function readIdentityConfig(env: Env): IdentityConfig {
  const config = {
    oidcIssuer: url(env, 'SIGNOFF_OIDC_ISSUER', ['https:', 'http:']),
    oidcAudience: text(env, 'SIGNOFF_OIDC_AUDIENCE'),
    permissionsPath: text(env, 'SIGNOFF_PERMISSIONS'),
    oidcClockSkewSeconds: duration(env, 'SIGNOFF_OIDC_CLOCK_SKEW', '30s') / 1000,
    tokenCacheSize: integer(env, 'SIGNOFF_TOKEN_CACHE_SIZE', 10_000, 1, 10_000_000),
    tokenCacheTtlMs: duration(env, 'SIGNOFF_TOKEN_CACHE_TTL', '5m'),
    apiKeyCacheTtlMs: duration(env, 'SIGNOFF_API_KEY_CACHE_TTL', '10s'),
    jwksCooldownMs: duration(env, 'SIGNOFF_JWKS_COOLDOWN', '30s'),
    identity: { plusAddressDomains: plusAddressDomains(env) },
  };
  if (config.oidcClockSkewSeconds > 60)
    throw new SignoffError('invalid_input', 'SIGNOFF_OIDC_CLOCK_SKEW must be at most 60s.');
  return config;
}

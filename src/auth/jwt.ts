import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity, SUBJECT_PREFIX } from '../core/identity.js';
import { grantsFor, stringsOf } from './grants.js';
import { ASYMMETRIC_ALGORITHMS, type IssuerConfig, type PermissionDocument } from './permission-document.js';
import type { Authenticator, Principal } from './principal.js';
import { sha256Hex } from './secrets.js';

/** Three base64url segments: the only thing worth decoding as a JWT. */
const JWT_SHAPE = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

export interface JwtOptions {
  readonly permissions: PermissionDocument;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Largest clock difference forgiven for `nbf` and `iat`; `exp` is enforced exactly. */
  readonly clockSkewSeconds: number;
  readonly cacheSize: number;
  readonly cacheTtlMs: number;
  /** Least time between two JWKS fetches caused by unknown key ids. */
  readonly jwksCooldownMs: number;
  readonly httpTimeoutMs: number;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

function refuse(reason: string): never {
  // The reason goes to the log only (as the cause); the caller learns nothing about why.
  throw new SignoffError('invalid_token', 'The access token is not valid.', { cause: new Error(reason) });
}

function unavailable(issuer: string, cause?: unknown): SignoffError {
  return new SignoffError(
    'identity_provider_unavailable',
    `The token's issuer ${issuer} cannot be reached right now; try again shortly.`,
    { cause },
  );
}

/** The issuer's key set, found through its discovery document once and then kept. */
function keySetFinder(issuer: IssuerConfig, options: JwtOptions) {
  let keySet: KeySet | undefined;
  let pending: Promise<KeySet> | undefined;
  let failedAt = 0;
  return async (): Promise<KeySet> => {
    if (keySet) return keySet;
    if (Date.now() - failedAt < options.jwksCooldownMs) throw unavailable(issuer.issuer);
    pending ??= (async () => {
      const url = `${issuer.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(url, {
        signal: AbortSignal.timeout(options.httpTimeoutMs),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
      const discovery = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (discovery.issuer !== issuer.issuer)
        throw new Error(`discovery names issuer ${String(discovery.issuer)}`);
      if (typeof discovery.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
      return createRemoteJWKSet(new URL(discovery.jwks_uri), {
        cooldownDuration: options.jwksCooldownMs,
        timeoutDuration: options.httpTimeoutMs,
        cacheMaxAge: 10 * 60_000,
      });
    })();
    try {
      keySet = await pending;
      return keySet;
    } catch (error) {
      failedAt = Date.now();
      options.logger.error({ err: error, issuer: issuer.issuer }, "cannot discover the issuer's keys");
      throw unavailable(issuer.issuer, error);
    } finally {
      pending = undefined;
    }
  };
}

/**
 * Whether `email_verified` lets the email name a person: `true`, or "true" as some issuers
 * (Cognito) send it; absent leaves it to the issuer, which vouches for people. Anything else,
 * "false" above all, is unverified.
 */
function emailVerified(claims: JWTPayload): boolean {
  const value = claims.email_verified;
  return value === undefined || value === true || value === 'true';
}

/**
 * Who a verified token names. A person is their email (or `identityClaim`) only from an
 * issuer that vouches for people, and only when the issuer has not said the email is
 * unverified (see `emailVerified`); their groups count only then. Otherwise the token acts as `subject:SUB`, which
 * no address and no group can match: it approves only where a gate names that subject.
 */
export function identify(
  issuer: IssuerConfig,
  claims: JWTPayload,
): { actor: string; groups: string[]; person: boolean | undefined } {
  const subject = `${SUBJECT_PREFIX}${claims.sub as string}`;
  // `person`: true when the token names a verified person, false for a machine issuer,
  // undefined when an issuer of people does not say who this is.
  if (issuer.people === false) return { actor: subject, groups: [], person: false };
  const claim = issuer.identityClaim ?? 'email';
  const identity = claims[claim];
  const unverified = claim === 'email' && !emailVerified(claims);
  if (typeof identity !== 'string' || !identity || unverified)
    return { actor: subject, groups: [], person: undefined };
  return {
    actor: normalizeIdentity(identity),
    groups: stringsOf(claims[issuer.groupsClaim ?? 'groups']),
    person: true,
  };
}

/** The principal a verified token stands for: whom it names, and what its permission rules grant. */
function principalOf(issuer: IssuerConfig, claims: JWTPayload, permissions: PermissionDocument): Principal {
  const { actor, groups, person } = identify(issuer, claims);
  const grants = grantsFor(permissions.rules, claims, groups);
  return {
    kind: 'jwt',
    credentialId: `${claims.iss}#${claims.sub}`,
    actor,
    groups,
    grants,
    unidentifiedPerson: person === undefined && !grants.some((grant) => grant.machine),
    issuer: claims.iss,
    subject: claims.sub,
  };
}

/** A configured issuer and the finder of its keys. */
interface KnownIssuer {
  readonly config: IssuerConfig;
  readonly keys: () => Promise<KeySet>;
}

interface CachedPrincipal {
  readonly principal: Principal;
  /** The token's `exp` in epoch milliseconds: the entry never outlives it. */
  readonly expiresAt: number;
}

/** The issuer a token names and the algorithms it may use, read before anything is verified. */
function issuerOf(
  issuers: ReadonlyMap<string, KnownIssuer>,
  token: string,
): { issuer: KnownIssuer; algorithms: string[] } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    refuse('not a decodable JWT');
  }
  const issuer = typeof unverified.iss === 'string' ? issuers.get(unverified.iss) : undefined;
  if (!issuer) refuse(`issuer ${String(unverified.iss)} is not configured`);
  const algorithms: string[] = issuer.config.algorithms ?? [...ASYMMETRIC_ALGORITHMS];
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg))
    refuse(`algorithm ${String(header.alg)} is not allowed`);
  return { issuer, algorithms };
}

/** The token's claims, verified with the issuer's keys: signature, issuer, audience, type and time. */
async function verifiedClaims(
  token: string,
  { issuer, algorithms }: { issuer: KnownIssuer; algorithms: string[] },
  keys: KeySet,
  now: Date,
  options: Pick<JwtOptions, 'clockSkewSeconds' | 'logger'>,
): Promise<JWTPayload> {
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, keys, {
      issuer: issuer.config.issuer,
      audience: issuer.config.audience,
      algorithms,
      clockTolerance: options.clockSkewSeconds,
      currentDate: now,
      requiredClaims: ['exp', 'sub'],
      ...(issuer.config.typ ? { typ: issuer.config.typ } : {}),
    }));
  } catch (error) {
    // Keys that could not be fetched say nothing about the token: that is an outage, not a refusal.
    if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
      options.logger.error({ err: error, issuer: issuer.config.issuer }, "cannot fetch the issuer's keys");
      throw unavailable(issuer.config.issuer, error);
    }
    refuse(`${error.code}: ${error.message}`);
  }
  // jose checks iat only against a maximum token age: a token issued in the future is refused here,
  // as one not valid yet is. The skew forgives an issuer whose clock runs ahead (nbf, iat); a
  // token's life still ends at exp.
  if (typeof claims.iat === 'number' && claims.iat > now.getTime() / 1000 + options.clockSkewSeconds)
    refuse('token issued in the future (iat)');
  return claims;
}

/**
 * Verifies JWT access tokens from the configured issuers (JWKS via discovery, asymmetric
 * algorithms only, exact issuer and audience, bounded clock skew) and maps their claims to
 * grants. Verified tokens are cached by hash, never past their `exp`.
 */
export function createJwtAuthenticator(options: JwtOptions): Authenticator {
  const issuers = new Map<string, KnownIssuer>(
    options.permissions.issuers.map((issuer) => [
      issuer.issuer,
      { config: issuer, keys: keySetFinder(issuer, options) },
    ]),
  );
  const cache = new LRUCache<string, CachedPrincipal>({ max: options.cacheSize });

  async function verify(token: string, hash: string): Promise<Principal> {
    const named = issuerOf(issuers, token);
    const keys = await named.issuer.keys();
    const now = options.now();
    const claims = await verifiedClaims(token, named, keys, now, options);
    const expiresAt = (claims.exp as number) * 1000;
    if (now.getTime() >= expiresAt) refuse('token expired');
    const principal = principalOf(named.issuer.config, claims, options.permissions);
    const ttl = Math.min(options.cacheTtlMs, expiresAt - now.getTime());
    if (ttl > 0) cache.set(hash, { principal, expiresAt }, { ttl });
    return principal;
  }

  return {
    async authenticate(bearer) {
      if (!JWT_SHAPE.test(bearer)) return undefined;
      const hash = sha256Hex(bearer);
      const cached = cache.get(hash);
      if (cached && options.now().getTime() < cached.expiresAt) return cached.principal;
      if (cached) cache.delete(hash);
      try {
        return await verify(bearer, hash);
      } catch (error) {
        if (error instanceof SignoffError && error.code === 'invalid_token')
          options.logger.info(
            {
              reason: error.cause instanceof Error ? error.cause.message : undefined,
              tokenHash: hash.slice(0, 12),
            },
            'access token refused',
          );
        throw error;
      }
    },
  };
}

import * as client from 'openid-client';
import { grantsFor } from '../../auth/grants.js';
import { identify } from '../../auth/jwt.js';
import type { IssuerConfig, PermissionDocument } from '../../auth/permission-document.js';
import { SignoffError } from '../../core/errors.js';
import { normalizeIdentity } from '../../core/identity.js';
import type { Services } from '../../services.js';
import type { WebPerson } from '../../sessions/web-sessions.js';

/** What the browser keeps (in a short-lived HttpOnly cookie) between leaving and coming back. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly next: string;
}

/** Signing in through the identity provider: authorization code with PKCE, then the id token's claims. */
export interface OidcSignIn {
  begin(next: string): Promise<{ url: string; pending: PendingSignIn }>;
  finish(currentUrl: URL, pending: PendingSignIn): Promise<WebPerson>;
}

type ProviderSettings = { issuer: string; clientId: string; clientSecret: string };

/**
 * The provider's configuration by discovery, fetched on first use and kept; a failed discovery
 * is tried again on the next sign-in.
 */
function discoveredOnce(
  settings: ProviderSettings,
  redirectUri: string,
  httpTimeoutMs: number,
): () => Promise<client.Configuration> {
  let configuration: Promise<client.Configuration> | undefined;
  return () => {
    configuration ??= client
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        { redirect_uris: [redirectUri], response_types: ['code'] },
        client.ClientSecretPost(settings.clientSecret),
        {
          timeout: Math.ceil(httpTimeoutMs / 1000),
          // Plain http only for a provider on this machine (tests, development).
          ...(new URL(settings.issuer).protocol === 'http:'
            ? { execute: [client.allowInsecureRequests] }
            : {}),
        },
      )
      .catch((error: unknown) => {
        configuration = undefined;
        throw new SignoffError(
          'identity_provider_unavailable',
          'The identity provider cannot be reached right now; try again shortly.',
          { cause: error },
        );
      });
    return configuration;
  };
}

/**
 * Maps the id token's claims exactly as an access token's are mapped (docs/authentication.md):
 * the permission document's entry for this issuer says which claim is the person and which
 * their groups; its rules give the grants.
 */
export function createOidcSignIn(
  services: Services,
  settings: ProviderSettings,
  permissions: PermissionDocument,
): OidcSignIn {
  const listed = permissions.issuers.find((i) => i.issuer === settings.issuer);
  const issuerConfig: IssuerConfig = listed ?? { issuer: settings.issuer, audience: settings.clientId };
  // A rule that names no issuer was written for the API's issuer; it speaks for this provider
  // only when this provider is that issuer. Otherwise only rules naming this issuer grant.
  const rules = listed ? permissions.rules : permissions.rules.filter((r) => r.issuer === settings.issuer);
  const redirectUri = `${services.config.publicUrl}/sign-in/callback`;
  const configure = discoveredOnce(settings, redirectUri, services.config.httpTimeoutMs);
  return {
    async begin(next) {
      const config = await configure();
      const pending = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        verifier: client.randomPKCECodeVerifier(),
        next,
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, pending };
    },
    async finish(currentUrl, pending) {
      const config = await configure();
      let claims: client.IDToken | undefined;
      try {
        const tokens = await client.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
      } catch (error) {
        throw new SignoffError(
          'invalid_token',
          'Signing in with the identity provider did not work; try again.',
          {
            cause: error,
          },
        );
      }
      if (!claims) throw new SignoffError('invalid_token', 'The identity provider sent no id token.');
      const { actor, groups } = identify(issuerConfig, claims);
      return {
        actor: normalizeIdentity(actor, services.config.identity),
        groups,
        grants: grantsFor(rules, claims, groups),
        issuer: claims.iss,
        subject: claims.sub,
      };
    },
  };
}

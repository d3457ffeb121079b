import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { type Authenticator, hasPermission, type Permission, type Principal } from '../auth/principal.js';
import { SignoffError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

// Large enough for identity providers that put many groups in their tokens.
const BEARER = /^Bearer ([^\s]{1,16384})$/i;

/**
 * The principal of a request's bearer credential; throws `unauthorized` or `invalid_token`
 * with a `WWW-Authenticate` challenge (plus `challenge`'s parameters, such as the
 * `resource_metadata` an OAuth client signs in through).
 */
export async function authenticate(
  authenticators: readonly Authenticator[],
  request: FastifyRequest,
  reply: FastifyReply,
  challenge = '',
): Promise<Principal> {
  const header = request.headers.authorization;
  if (!header) {
    reply.header('www-authenticate', `Bearer${challenge && ` ${challenge}`}`);
    throw new SignoffError('unauthorized', 'Send an API key or access token: Authorization: Bearer <token>.');
  }
  const bearer = BEARER.exec(header)?.[1];
  try {
    if (bearer) {
      for (const authenticator of authenticators) {
        const principal = await authenticator.authenticate(bearer);
        if (principal) return principal;
      }
    }
    throw new SignoffError('invalid_token', 'The credential is not valid.');
  } catch (error) {
    if (error instanceof SignoffError && error.code === 'invalid_token')
      reply.header('www-authenticate', `Bearer error="invalid_token"${challenge && `, ${challenge}`}`);
    throw error;
  }
}

/**
 * A hook (run before the body is validated, so a stranger learns nothing from a 400) that
 * lets the request through only with a credential holding `permission`, or
 * one of `permission`'s entries when it lists several; `challenge` as for `authenticate`.
 */
export function requirePermission(
  authenticators: readonly Authenticator[],
  permission: Permission | readonly Permission[],
  challenge = '',
): preValidationAsyncHookHandler {
  const anyOf = [permission].flat();
  return async (request, reply) => {
    const principal = await authenticate(authenticators, request, reply, challenge);
    if (!anyOf.some((p) => hasPermission(principal, p)))
      throw new SignoffError('forbidden', `This credential lacks the ${anyOf.join(' or ')} permission.`);
    request.principal = principal;
  };
}

/** The principal a guarded route was let in with. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf called on a route without requirePermission');
  return request.principal;
}

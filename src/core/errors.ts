/**
 * Every expected failure in signoff has a stable code from this list. Codes become
 * HTTP statuses in exactly one place (the HTTP error handler); docs/errors.md lists them all.
 */
export const ERROR_CODES = [
  'invalid_input',
  'callback_not_allowed',
  'unsupported_media_type',
  'body_too_large',
  'request_timeout',
  'unauthorized',
  'invalid_token',
  'forbidden',
  'invalid_signature',
  'not_approver',
  'self_approval',
  'inline_policy_forbidden',
  'policy_not_allowed',
  'not_owner',
  'grant_not_allowed',
  'not_found',
  'method_not_allowed',
  'link_not_found',
  'already_decided',
  'duplicate_decision',
  'too_early',
  'idempotency_conflict',
  'replayed',
  'no_route',
  'unknown_requester',
  'link_expired',
  'link_used',
  'rate_limited',
  'upstream_timeout',
  'upstream_failed',
  'database_unavailable',
  'identity_provider_unavailable',
  'schema_too_new',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one error class of signoff: a stable code, a human message, an optional cause (for
 * the log only) and optional details that the caller sees (every problem, by path).
 */
export class SignoffError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** A failed outcome that the domain expects (not approver, already decided, ...). */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
}

export type Result<T> = ({ readonly ok: true } & T) | Failure;

/** Builds an expected failure value. */
export function fail(code: ErrorCode, message: string): Failure {
  return { ok: false, code, message };
}

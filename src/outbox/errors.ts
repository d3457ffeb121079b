import { type ErrorCode, SignoffError } from '../core/errors.js';

/** Thrown by a handler when retrying cannot help (the target is gone for good, a token is spent). */
export class PermanentDeliveryError extends SignoffError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode }) {
    super(options?.code ?? 'upstream_failed', message, options);
  }
}

/**
 * Thrown by a handler when the other side said when to come back (HTTP 429 or 503 with
 * Retry-After, AWS throttling): the next attempt waits that long instead of the backoff.
 */
export class RetryAfterError extends SignoffError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('upstream_failed', message, options);
    this.retryAfterMs = Math.max(0, retryAfterMs);
  }
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from `now`, if it says anything. */
export function parseRetryAfter(header: string | null | undefined, now: Date): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; anything else (a negative number) says nothing.
  if (!/^[A-Za-z]{3}, /.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

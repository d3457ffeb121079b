import { SignoffApiError, SignoffError } from './errors.js';
import type { ApiErrorCode } from './types.js';

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** The bound on this one request, answer included. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** One call of signoff's API. */
export type Send = <T>(method: 'GET' | 'POST', path: string, options: RequestOptions) => Promise<T>;

/**
 * Calls signoff with a bearer credential, every request bounded by its timeout. An error answer
 * becomes a SignoffApiError with signoff's code; no answer at all a SignoffError (`unreachable`,
 * `timeout`, `bad_response`). An abort through the caller's signal rejects with its reason.
 */
export function createSender(url: string, token: string): Send {
  const base = url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(base)) throw new TypeError(`signoff's url must be http(s), not ${url}`);
  if (!token) throw new TypeError("signoff's token is empty: give an API key (sk_…) or an access token");
  return async <T>(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<T> => {
    options.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...options.headers,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted)
        throw new SignoffError('timeout', `signoff at ${base} did not answer ${method} ${path} in time`, {
          cause: error,
        });
      throw new SignoffError('unreachable', `could not reach signoff at ${base}`, { cause: error });
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch (error) {
      throw new SignoffError('bad_response', `signoff answered HTTP ${response.status} with no JSON`, {
        cause: error,
      });
    }
    if (!response.ok) throw apiError(response.status, json);
    return json as T;
  };
}

/** signoff's error body, `{"error": {code, message, details?, requestId}}`, as an error to throw. */
function apiError(status: number, json: unknown): SignoffApiError {
  const error = (json as { error?: Record<string, unknown> } | undefined)?.error;
  const code = typeof error?.code === 'string' ? (error.code as ApiErrorCode) : 'unknown';
  const message = typeof error?.message === 'string' ? error.message : `signoff answered HTTP ${status}`;
  return new SignoffApiError(status, {
    code,
    message,
    requestId: typeof error?.requestId === 'string' ? error.requestId : undefined,
    details:
      typeof error?.details === 'object' && error.details !== null
        ? (error.details as Record<string, unknown>)
        : undefined,
  });
}

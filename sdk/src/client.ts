import { SignoffApiError, SignoffError } from './errors.js';
import { createSender } from './http.js';
import type { Approval, ApprovalRequest, PolicyCheck } from './types.js';

/** signoff answers a long poll after 60 s at most; no single request of the SDK waits longer. */
export const SERVER_WAIT_CAP_MS = 60_000;

export interface SignoffOptions {
  /** Where signoff answers, e.g. https://signoff.example.com. */
  readonly url: string;
  /** An API key (sk_…) or an identity provider's access token; an agent needs approvals:create and approvals:read. */
  readonly token: string;
  /** The bound on each request that does not wait for people (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** How long one long poll asks signoff to hold (default 25 s, at most 60 s), so no proxy cuts it. */
  readonly pollMs?: number;
  /** Pauses after a failed long poll: doubling from `initialMs` to `maxMs` (default 1 s to 30 s). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** How long to wait for people in all (default 10 minutes); then the approval is answered as it stands. */
  readonly timeoutMs?: number;
}

/** signoff's API for whoever asks: ask, read, wait, call off, and check a policy. None of it decides. */
export interface SignoffClient {
  /**
   * Asks for an approval. With an idempotency key a retry answers the approval the first
   * request created (and signoff refuses the same key with another body: `idempotency_conflict`).
   */
  createApproval(
    body: ApprovalRequest,
    options?: CallOptions & { readonly idempotencyKey?: string },
  ): Promise<Approval>;
  getApproval(id: string, options?: CallOptions): Promise<Approval>;
  /**
   * Waits until the approval is decided (or expired, or cancelled), in long polls of at most
   * `pollMs`, pausing with backoff after a failure; answers the approval as it stands when
   * `timeoutMs` runs out (still `pending`), so calling again with the same id resumes the wait.
   * An error signoff will answer again (a refused credential, an unknown id) is thrown at once.
   */
  waitForDecision(id: string, options?: WaitOptions): Promise<Approval>;
  /** Calls off an approval this credential asked for. */
  cancelApproval(id: string, options?: CallOptions & { readonly reason?: string }): Promise<Approval>;
  /** The dry run: whether rules would decide such a request at once, or who would be asked. Creates nothing. */
  checkPolicy(body: ApprovalRequest, options?: CallOptions): Promise<PolicyCheck>;
}

/** A client of one signoff, for one credential. */
export function createSignoff(options: SignoffOptions): SignoffClient {
  const send = createSender(options.url, options.token);
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const pollMs = Math.min(Math.max(options.pollMs ?? 25_000, 0), SERVER_WAIT_CAP_MS);
  const initialMs = options.backoff?.initialMs ?? 1_000;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  const path = (id: string, tail = '') => `/v1/approvals/${encodeURIComponent(id)}${tail}`;

  return {
    createApproval(body, { idempotencyKey, signal } = {}) {
      return send<Approval>('POST', '/v1/approvals', {
        body,
        headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
        timeoutMs: requestTimeoutMs,
        signal,
      });
    },
    getApproval(id, { signal } = {}) {
      return send<Approval>('GET', path(id), { timeoutMs: requestTimeoutMs, signal });
    },
    async waitForDecision(id, { timeoutMs = 10 * 60_000, signal } = {}) {
      const deadline = Date.now() + timeoutMs;
      let failures = 0;
      for (;;) {
        const holdMs = Math.max(0, Math.min(pollMs, deadline - Date.now()));
        try {
          const approval = await send<Approval>('GET', `${path(id, '/wait')}?timeout=${holdMs / 1000}s`, {
            // The server answers after holdMs; the margin is for the answer to arrive.
            timeoutMs: holdMs + requestTimeoutMs,
            signal,
          });
          failures = 0;
          if (approval.status !== 'pending' || Date.now() >= deadline) return approval;
        } catch (error) {
          if (!isWorthRetrying(error)) throw error;
          failures++;
          const pauseMs = jittered(Math.min(maxMs, initialMs * 2 ** (failures - 1)));
          if (Date.now() + pauseMs >= deadline) throw error;
          await pause(pauseMs, signal);
        }
      }
    },
    cancelApproval(id, { reason, signal } = {}) {
      return send<Approval>('POST', path(id, '/cancel'), {
        body: reason === undefined ? {} : { reason },
        timeoutMs: requestTimeoutMs,
        signal,
      });
    },
    checkPolicy(body, { signal } = {}) {
      return send<PolicyCheck>('POST', '/v1/approvals/dry-run', {
        body,
        timeoutMs: requestTimeoutMs,
        signal,
      });
    },
  };
}

/** A network failure, a timeout, 429 and 5xx may pass; any other answer will be the same next time. */
function isWorthRetrying(error: unknown): boolean {
  if (error instanceof SignoffApiError) return error.status === 429 || error.status >= 500;
  return error instanceof SignoffError;
}

/** Between half and all of `ms`, so clients that failed together do not retry together. */
function jittered(ms: number): number {
  return ms / 2 + Math.random() * (ms / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

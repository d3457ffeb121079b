import type { ApiErrorCode, Approval } from './types.js';

/** Why the SDK could not get an answer from signoff at all. */
export type TransportErrorCode = 'unreachable' | 'timeout' | 'bad_response';

/** Why `requireApproval` did not run its function. */
export type NotApprovedCode = 'rejected' | 'expired' | 'cancelled' | 'not_decided' | 'action_mismatch';

export type SignoffErrorCode = ApiErrorCode | TransportErrorCode | NotApprovedCode | 'unknown';

/** Every error this SDK throws on purpose. Match on `code`, never on the message. */
export class SignoffError extends Error {
  readonly code: SignoffErrorCode;

  constructor(code: SignoffErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** signoff answered with an error: its stable `code`, its message, and the request id of its log line. */
export class SignoffApiError extends SignoffError {
  declare readonly code: ApiErrorCode | 'unknown';
  readonly status: number;
  readonly requestId: string | undefined;
  /** For `invalid_input`: `in` and every problem found (`issues`). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    status: number,
    error: {
      code: ApiErrorCode | 'unknown';
      message: string;
      requestId?: string;
      details?: Record<string, unknown>;
    },
  ) {
    super(error.code, error.message);
    this.status = status;
    this.requestId = error.requestId;
    this.details = error.details;
  }
}

/**
 * `requireApproval` did not run its function: people rejected the call (`reason` carries who and
 * their comment), it expired, was cancelled, nobody decided within the wait, or what was
 * approved is not exactly the call about to run.
 */
export class NotApprovedError extends SignoffError {
  declare readonly code: NotApprovedCode;
  readonly approval: Approval;

  constructor(code: NotApprovedCode, approval: Approval, message: string) {
    super(code, message);
    this.approval = approval;
  }
}

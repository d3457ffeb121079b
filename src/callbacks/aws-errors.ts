import { SignoffError } from '../core/errors.js';
import { PermanentDeliveryError } from '../worker/delivery.js';

/** AWS answers that retrying cannot change: the approval or task is gone or already done. */
const FINAL = new Set([
  'ApprovalAlreadyCompletedException',
  'InvalidApprovalTokenException',
  'ActionNotFoundException',
  'PipelineNotFoundException',
  'StageNotFoundException',
  'TaskDoesNotExist',
  'TaskTimedOut',
  'InvalidToken',
  'InvalidOutput',
  'ValidationException',
]);

/** Turns an AWS SDK error into "do not retry" (final) or a coded, retryable error. */
export function classifyAwsError(error: unknown, what: string): Error {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const message = error instanceof Error ? error.message : String(error);
  if (FINAL.has(name))
    return new PermanentDeliveryError(`${what}: AWS answered ${name}: ${message}`, { cause: error });
  if (name === 'TimeoutError' || name === 'RequestTimeout')
    return new SignoffError('upstream_timeout', `${what}: AWS did not answer in time.`, { cause: error });
  return new SignoffError('upstream_failed', `${what}: ${name}: ${message}`, { cause: error });
}

/** SDK client options: one attempt (the outbox retries with backoff), bounded by our timeout. */
export function awsClientOptions(region: string | undefined, timeoutMs: number) {
  return {
    maxAttempts: 1,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
    ...(region ? { region } : {}),
  };
}

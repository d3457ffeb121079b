import { SignoffError } from '../core/errors.js';
import { PermanentDeliveryError, RetryAfterError } from '../outbox/errors.js';

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

/** AWS answers that mean "slow down": retried after a pause rather than on the quick first backoff steps. */
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
]);
const THROTTLED_RETRY_MS = 30_000;

/** Turns an AWS SDK error into "do not retry" (final) or a coded, retryable error. */
export function classifyAwsError(error: unknown, what: string): Error {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const message = error instanceof Error ? error.message : String(error);
  if (FINAL.has(name))
    return new PermanentDeliveryError(`${what}: AWS answered ${name}: ${message}`, { cause: error });
  if (THROTTLED.has(name))
    return new RetryAfterError(`${what}: AWS is throttling (${name}).`, THROTTLED_RETRY_MS, { cause: error });
  if (name === 'TimeoutError' || name === 'RequestTimeout')
    return new SignoffError('upstream_timeout', `${what}: AWS did not answer in time.`, { cause: error });
  return new SignoffError('upstream_failed', `${what}: ${name}: ${message}`, { cause: error });
}

/** SDK client options: one attempt (the outbox retries with backoff), bounded by our timeout. */
function awsClientOptions(region: string | undefined, timeoutMs: number) {
  return {
    maxAttempts: 1,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
    ...(region ? { region } : {}),
  };
}

/** One SDK client per region (the default region's under ""), made on first use and then kept. */
export function regionalClients<C>(
  Client: new (options: ReturnType<typeof awsClientOptions>) => C,
  timeoutMs: number,
): (region: string | undefined) => C {
  const clients = new Map<string, C>();
  return (region) => {
    const key = region ?? '';
    let client = clients.get(key);
    if (!client) {
      client = new Client(awsClientOptions(region, timeoutMs));
      clients.set(key, client);
    }
    return client;
  };
}

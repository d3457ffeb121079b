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

/**
 * One SDK client per region (the default region's under ""), made on first use and then kept.
 * The client's class comes from `load`, so that its SDK is loaded by the first call and not
 * at start: most signoffs never call AWS, and loading its SDKs was a tenth of a start's CPU.
 */
export function regionalClients<C>(
  load: () => Promise<new (options: ReturnType<typeof awsClientOptions>) => C>,
  timeoutMs: number,
): (region: string | undefined) => Promise<C> {
  const clients = new Map<string, C>();
  return async (region) => {
    const key = region ?? '';
    const kept = clients.get(key);
    if (kept) return kept;
    const Client = await load();
    // Another call may have made it while the SDK was loading.
    const client = clients.get(key) ?? new Client(awsClientOptions(region, timeoutMs));
    clients.set(key, client);
    return client;
  };
}

import type { AllowList } from '../egress/address-policy.js';
import { allowList, duration, type Env } from './read.js';

/** How the outbox delivers: outbound requests, retries, dead letters and retention. */
export interface OutboxConfig {
  /** Outbound HTTP requests (webhooks) give up after this long. */
  readonly httpTimeoutMs: number;
  /**
   * Where webhooks may go (SIGNOFF_WEBHOOK_ALLOW). Undefined: anywhere but private networks,
   * loopback, link-local, unspecified and cloud metadata addresses.
   */
  readonly webhookAllow: AllowList | undefined;
  /** First retry delay of the outbox; each further attempt doubles it, with jitter. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** A message still undelivered this long after it was queued is dead-lettered. */
  readonly deadLetterAfterMs: number;
  /** Delivered outbox messages and spent links are deleted this long after they were done with. */
  readonly retentionMs: number;
  /** How often the dispatcher and the expiry sweeper look for due work when not woken. */
  readonly pollIntervalMs: number;
}

/** The outbox's settings. */
export function readOutboxConfig(env: Env): OutboxConfig {
  return {
    httpTimeoutMs: duration(env, 'SIGNOFF_HTTP_TIMEOUT', '10s'),
    webhookAllow: allowList(env, 'SIGNOFF_WEBHOOK_ALLOW'),
    retryBaseMs: duration(env, 'SIGNOFF_RETRY_BASE', '2s'),
    retryMaxMs: duration(env, 'SIGNOFF_RETRY_MAX', '1h'),
    deadLetterAfterMs: duration(env, 'SIGNOFF_DEAD_LETTER_AFTER', '48h'),
    pollIntervalMs: duration(env, 'SIGNOFF_POLL_INTERVAL', '1s'),
    retentionMs: duration(env, 'SIGNOFF_RETENTION', '7d'),
  };
}

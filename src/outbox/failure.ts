import type { AuditEntry } from '../core/audit.js';
import type { Services } from '../services.js';
import type { OutboxRow } from '../store/schema.js';
import { retryDelay } from './backoff.js';
import { PermanentDeliveryError, RetryAfterError } from './errors.js';
import type { AnyOutboxMessage, OutboxHandler, Recipient } from './handler.js';
import type { OutboxKind } from './kinds.js';

/** The settings a failed attempt is judged by. */
export type RetrySettings = Pick<Services['config'], 'retryBaseMs' | 'retryMaxMs' | 'deadLetterAfterMs'>;

/** What a failed attempt comes to: tried again after `delay`, or `dead` when it never will be. */
export interface Failure {
  readonly attempts: number;
  readonly delay: number;
  readonly dead: boolean;
  readonly reason: string;
  readonly recipient: Recipient | undefined;
}

/**
 * Judges a failed attempt: it waits as long as the target asked (capped by SIGNOFF_RETRY_MAX)
 * or the backoff's delay, and is dead when the error is permanent or the message would outlive
 * SIGNOFF_DEAD_LETTER_AFTER.
 */
export function judgeFailure(
  row: OutboxRow,
  handler: OutboxHandler<OutboxKind>,
  message: AnyOutboxMessage,
  error: unknown,
  now: Date,
  config: RetrySettings,
): Failure {
  const attempts = Number(row.attempts) + 1;
  const reason = error instanceof Error ? error.message : String(error);
  const recipient = handler.recipient?.(message);
  const delay =
    error instanceof RetryAfterError
      ? Math.min(error.retryAfterMs, config.retryMaxMs)
      : retryDelay(attempts, config.retryBaseMs, config.retryMaxMs);
  const age = now.getTime() - Number(row.created_at);
  const dead = error instanceof PermanentDeliveryError || age + delay > config.deadLetterAfterMs;
  return { attempts, delay, dead, reason, recipient };
}

/** The audit event of a failed attempt; it names the error only where the kind allows it. */
export function failureEntry(
  row: OutboxRow,
  handler: OutboxHandler<OutboxKind>,
  failure: Failure,
): AuditEntry {
  const { attempts, delay, dead, reason, recipient } = failure;
  const detail = handler.errorsInAudit === false ? {} : { error: reason };
  const data = {
    messageId: row.id,
    attempts,
    ...detail,
    retryInMs: dead ? null : delay,
    ...(recipient && { channel: recipient.channel, to: recipient.to }),
  };
  return { type: dead ? handler.events.dead : handler.events.failed, actor: null, data };
}

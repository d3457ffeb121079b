import type { DeliveryEvents } from '../core/audit.js';
import type { OutboxKind, OutboxPayloads } from './kinds.js';

/** One message as a handler receives it. */
export interface OutboxMessage<K extends OutboxKind> {
  /** Stable across retries: receivers de-duplicate on it. */
  readonly id: string;
  readonly kind: K;
  readonly approvalId: string | null;
  readonly payload: OutboxPayloads[K];
  /** Attempts before this one. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** Any message, as a union over the kinds (so `handlers[message.kind]` fits `message`). */
export type AnyOutboxMessage = { [K in OutboxKind]: OutboxMessage<K> }[OutboxKind];

/** What a delivery reports when it did its job; goes to the audit trail. */
export type DeliveryReport = {
  readonly skipped?: string;
  /** Routine deliveries (heartbeats, work that audits itself) leave no audit event. */
  readonly silent?: boolean;
} & Record<string, unknown>;

/**
 * Delivers the messages of one kind. Throwing means "try again later" with backoff;
 * `PermanentDeliveryError` means never, `RetryAfterError` means after the time it names.
 */
export interface OutboxHandler<K extends OutboxKind> {
  deliver(message: OutboxMessage<K>): Promise<DeliveryReport>;
  /** The audit events of this kind's deliveries. */
  readonly events: DeliveryEvents;
  /** How long one delivery may take, when longer than an ordinary callback's deadline. */
  readonly deadlineMs?: number;
  /**
   * False when failure messages could map a network a requester chose (webhooks): the audit
   * trail then says only that delivery failed; the outbox and the log keep the message.
   */
  readonly errorsInAudit?: boolean;
  /**
   * Who a message of this kind is for (mail, Slack: messages to people). A failure's audit
   * event then names the recipient, and a dead-lettered one shows in the approval's
   * `notificationFailures`, so the waiting side learns that someone was never told.
   */
  recipient?(message: OutboxMessage<K>): Recipient;
}

/** Who a message is for: the channel and the address in its terms (an email address, a Slack user). */
export interface Recipient {
  readonly channel: string;
  readonly to: string;
}

/** One handler for every kind: a kind without a handler does not compile. */
export type OutboxHandlers = { readonly [K in OutboxKind]: OutboxHandler<K> };

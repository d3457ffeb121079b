import type { OutboxRow } from '../store/schema.js';

/** What a delivery attempt reports when it did its job; goes to the audit trail. */
export type DeliveryReport = {
  readonly skipped?: string;
  /** Routine deliveries (heartbeats) leave no audit event. */
  readonly silent?: boolean;
} & Record<string, unknown>;

/** Delivers one outbox message of one kind. Throwing means "try again later". */
export interface OutboxHandler {
  deliver(row: OutboxRow, payload: unknown): Promise<DeliveryReport>;
  /** How long one delivery may take, when longer than an ordinary callback's deadline. */
  readonly deadlineMs?: number;
  /**
   * False when failure messages could map a network a requester chose (webhooks): the audit
   * trail then says only that delivery failed; the outbox and the log keep the message.
   */
  readonly errorsInAudit?: boolean;
}

/** Thrown by a handler when retrying cannot help (e.g. the target is gone for good). */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message to a person that signoff gave up delivering, as the waiting side sees it. */
export interface NotificationFailure {
  /** The channel it went through: `email`, `slack`, … */
  readonly channel: string;
  /** Who it was for, in the channel's terms (an address, a Slack user). */
  readonly to: string;
  /** Why, when the channel's errors may be shown (its operator's own server); otherwise only that it failed. */
  readonly reason: string;
  readonly at: string;
}

/**
 * A dead-letter audit event's data as a failure, when the event names its recipient (the
 * dispatcher records one for handlers that declare `recipient`).
 */
export function notificationFailureOf(
  data: Readonly<Record<string, unknown>>,
  at: Date,
): NotificationFailure | undefined {
  const { channel, to, error } = data;
  if (typeof channel !== 'string' || typeof to !== 'string') return undefined;
  const reason = typeof error === 'string' && error ? error : 'delivery failed';
  return { channel, to, reason, at: at.toISOString() };
}

/** "mail to lead@example.com failed: connection refused by smtp.example.com:25" */
export function describeNotificationFailure(failure: NotificationFailure): string {
  const what = failure.channel === 'email' ? 'mail' : failure.channel;
  return `${what} to ${failure.to} failed: ${failure.reason}`;
}

// One address only: no separators or quoting that a mailer could split into several recipients.
const ADDRESS = '[^@\\s,;:<>()\\[\\]"\'\\\\]+@[^@\\s,;:<>()\\[\\]"\'\\\\]+';

/** An email address, as a JSON Schema pattern. */
export const EMAIL_PATTERN = `^${ADDRESS}$`;

/** An approver: an email address or `group:NAME`, as a JSON Schema pattern. */
export const APPROVER_PATTERN = `^(group:[A-Za-z0-9._-]+|${ADDRESS})$`;

/** Normalises an identity for comparison: emails are case-insensitive. */
export function normalizeIdentity(value: string): string {
  return value.trim().toLowerCase();
}

/** Normalises an approver entry: identities are case-insensitive, `group:NAME` is kept as written. */
export function normalizeApprover(entry: string): string {
  return entry.startsWith('group:') ? entry : normalizeIdentity(entry);
}

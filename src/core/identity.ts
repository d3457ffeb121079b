import { REORDERING_CHARACTERS } from './text.js';

// No identity holds a control character (C0, DEL, C1), nor a character that reorders or
// breaks how it reads: an address must show as the address it is.
const CONTROLS = `\\u0000-\\u001F\\u007F-\\u009F${REORDERING_CHARACTERS}`;
// One address only: no separators or quoting that a mailer could split into several recipients.
const ADDRESS_CHARACTER = `[^@\\s,;:<>()\\[\\]"'\\\\${CONTROLS}]`;
// A domain is dot-separated labels (no empty one, no trailing dot), without the characters
// that end a host in a URL: a second spelling of a domain would be a second person.
const LABEL = `[^@\\s,;:<>()\\[\\]"'\\\\/?#%.${CONTROLS}]+`;
const ADDRESS = `${ADDRESS_CHARACTER}+@${LABEL}(\\.${LABEL})*`;
// A token subject: whatever the issuer uses, without spaces or characters that split lists.
const SUBJECT = `[^\\s,;<>"'\\\\${CONTROLS}]{1,240}`;

/** An email address, as a JSON Schema pattern. */
export const EMAIL_PATTERN = `^${ADDRESS}$`;

/**
 * An approver: an email address, `group:NAME`, or `subject:SUB` (a token subject, for people
 * or machines whose tokens carry no verified email), as a JSON Schema pattern.
 */
export const APPROVER_PATTERN = `^(group:[A-Za-z0-9._-]+|subject:${SUBJECT}|${ADDRESS})$`;

/** What an identity without a verified email is known as: its token's subject. */
export const SUBJECT_PREFIX = 'subject:';

/** How addresses of some domains are compared: which treat `local+tag@` as `local@`. */
export interface IdentityRules {
  /** Domains (lowercase, ASCII) whose plus-addressed mail reaches the same person; `*` for all. */
  readonly plusAddressDomains: readonly string[];
}

export const EXACT_IDENTITIES: IdentityRules = { plusAddressDomains: [] };

/** A domain in ASCII (IDN to punycode), so `bücher.example` and `xn--bcher-kva.example` are one. */
function asciiDomain(domain: string): string {
  // Most domains are ASCII already; identities are compared on every decision, so skip the URL parser.
  if (/^[\x21-\x7e]*$/.test(domain)) return domain;
  try {
    return new URL(`http://${domain}`).hostname || domain;
  } catch {
    return domain;
  }
}

/**
 * Normalises an identity so that one person has one spelling: Unicode NFC, case-insensitive,
 * domain in ASCII, and plus-addressing folded for the domains `rules` name. Subjects are
 * compared exactly. Idempotent: a normalised identity normalises to itself.
 */
export function normalizeIdentity(value: string, rules: IdentityRules = EXACT_IDENTITIES): string {
  const trimmed = value.trim().normalize('NFC');
  if (trimmed.startsWith(SUBJECT_PREFIX)) return trimmed;
  const at = trimmed.lastIndexOf('@');
  if (at <= 0) return trimmed.toLowerCase();
  // `corp.com.` is `corp.com` to a mailer; one spelling, one person.
  const domain = asciiDomain(
    trimmed
      .slice(at + 1)
      .toLowerCase()
      .replace(/\.+$/, ''),
  );
  let local = trimmed.slice(0, at).toLowerCase();
  const folds = rules.plusAddressDomains.includes('*') || rules.plusAddressDomains.includes(domain);
  if (folds && local.indexOf('+') > 0) local = local.slice(0, local.indexOf('+'));
  return `${local}@${domain}`;
}

/** Normalises an approver entry: identities as above, `group:NAME` kept as written. */
export function normalizeApprover(entry: string, rules: IdentityRules = EXACT_IDENTITIES): string {
  return entry.startsWith('group:') ? entry : normalizeIdentity(entry, rules);
}

/** Whether an approver entry names one person (an address or a subject), not a group. */
export function namesOnePerson(entry: string): boolean {
  return !entry.startsWith('group:');
}

/** Whether an identity can be mailed (an address, not a subject). */
export function isMailable(identity: string): boolean {
  return !identity.startsWith('group:') && !identity.startsWith(SUBJECT_PREFIX);
}

/**
 * The audit trail of each approval is a hash chain: every event carries the hash of the event
 * before it and its own hash over a canonical encoding, so an edited, inserted or removed event
 * (other than the last) breaks every hash after it. The encoding is fixed (`v: 1`); a change
 * would be a new version, never an edit of this one. docs/security.md describes it.
 */

/** An audit event as the chain sees it. `data` is the parsed JSON object that was stored. */
export interface ChainedEvent {
  readonly id: string;
  readonly approvalId: string;
  /** 1 for an approval's first event, then +1 per event. */
  readonly seq: number;
  readonly type: string;
  readonly actor: string | null;
  readonly data: unknown;
  /** Epoch milliseconds. */
  readonly at: number;
  /** The hash of the event with `seq - 1`; null for the first. */
  readonly prevHash: string | null;
  readonly hash: string | null;
}

/** The canonical encoding version; part of what is hashed. */
export const AUDIT_CHAIN_VERSION = 1;

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and no whitespace: for the
 * strings, finite numbers, booleans, nulls, arrays and objects JSON can hold, this is the JSON
 * Canonicalization Scheme of RFC 8785.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** What is hashed for one event: its canonical encoding, the previous hash included. */
export function auditHashInput(event: Omit<ChainedEvent, 'hash'>): string {
  return canonicalJson({
    v: AUDIT_CHAIN_VERSION,
    approvalId: event.approvalId,
    seq: event.seq,
    id: event.id,
    type: event.type,
    actor: event.actor,
    data: event.data,
    at: event.at,
    prevHash: event.prevHash,
  });
}

/** Where a chain stops verifying: the first event that does not fit, and why. */
export interface BrokenLink {
  readonly id: string;
  readonly seq: number;
  readonly type: string;
  readonly reason: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'unchained';
}

/** What any hash chain's verification reads of a link: its place, its own hash and its predecessor's. */
export interface ChainLink {
  readonly id: string;
  readonly seq: number;
  readonly type: string;
  readonly prevHash: string | null;
  readonly hash: string | null;
}

/**
 * Checks links (in `seq` order) against their hashes, `hashOf` recomputing one link's hash:
 * the audit trail's and the policy change log's chains are verified alike. Returns the first
 * broken link, or undefined.
 */
export function findBrokenChainLink<L extends ChainLink>(
  links: readonly L[],
  hashOf: (link: L) => string,
): BrokenLink | undefined {
  let previous: string | null = null;
  for (const [index, link] of links.entries()) {
    const at = { id: link.id, seq: link.seq, type: link.type };
    if (link.hash === null) return { ...at, reason: 'unchained' };
    if (link.seq !== index + 1) return { ...at, reason: 'seq_gap' };
    if (link.prevHash !== previous) return { ...at, reason: 'prev_hash_mismatch' };
    if (hashOf(link) !== link.hash) return { ...at, reason: 'hash_mismatch' };
    previous = link.hash;
  }
  return undefined;
}

/**
 * Checks one approval's events (in `seq` order) against their hashes; `sha256Hex` is passed in
 * to keep the core free of Node's crypto. Returns the first broken event, or undefined.
 */
export function findBrokenLink(
  events: readonly ChainedEvent[],
  sha256Hex: (text: string) => string,
): BrokenLink | undefined {
  return findBrokenChainLink(events, (event) => sha256Hex(auditHashInput(event)));
}

/** What verifying one approval's chain found: how many events, its head, and the first broken one. */
export interface ChainCheck {
  readonly events: number;
  /** The last event's place and hash: what the next event links to. Null without events. */
  readonly head: { readonly seq: number; readonly hash: string | null } | null;
  /** The first event that does not fit; null when all fit, or when there are none. */
  readonly broken: BrokenLink | null;
  /** At least one event, and every one fits: an approval without events has lost them. */
  readonly verified: boolean;
}

/** Verifies one approval's whole chain. */
export function checkChain(events: readonly ChainedEvent[], sha256Hex: (text: string) => string): ChainCheck {
  const last = events.at(-1);
  if (!last) return { events: 0, head: null, broken: null, verified: false };
  const broken = findBrokenLink(events, sha256Hex) ?? null;
  return { events: events.length, head: { seq: last.seq, hash: last.hash }, broken, verified: !broken };
}

/** A reason in words, for the CLI and logs. */
export const BROKEN_LINK_REASONS: Readonly<Record<BrokenLink['reason'], string>> = {
  seq_gap: 'an event before it is missing (sequence gap)',
  prev_hash_mismatch: 'its previous hash does not match the event before it',
  hash_mismatch: 'its content does not match its hash (edited)',
  unchained: 'it has no hash',
};

import { type BrokenLink, findBrokenChainLink } from './audit-chain.js';
import { canonicalJson } from './canonical-json.js';

/**
 * The policy change log: every version of a named policy (SIGNOFF_POLICIES) and of the routing
 * file (SIGNOFF_ROUTES) that an instance loaded, once each time it differs from the last one
 * recorded. Its entries are chained per policy as the audit trail is per approval
 * (src/core/audit-chain.ts), so an edited or removed entry (other than the last) shows.
 */

/** What a version is of: a named policy, or the routing file. */
export type PolicySource = 'policy' | 'routes';

/** The name the routing file's versions are kept under (there is one routing file). */
export const ROUTES_NAME = 'routes';

/** A version: `sha256:` and the hex SHA-256 of the content's canonical JSON (RFC 8785). */
export function policyVersionOf(content: unknown, sha256Hex: (text: string) => string): string {
  return `sha256:${sha256Hex(canonicalJson(content))}`;
}

/** A policy as loaded now: what it is, and the version of its content. */
export interface LoadedPolicy {
  readonly source: PolicySource;
  readonly name: string;
  readonly version: string;
  /** The compiled policy (or routing) as signoff holds it: what the version is the hash of. */
  readonly content: unknown;
}

/** One entry of the log. */
export interface PolicyVersionEntry {
  readonly source: PolicySource;
  readonly name: string;
  /** 1 for a policy's first entry, then +1 per entry. */
  readonly seq: number;
  /** Null when an instance loaded the files and this policy was no longer in them. */
  readonly version: string | null;
  readonly content: unknown;
  /** Epoch milliseconds: when an instance first loaded this version after another. */
  readonly firstSeenAt: number;
  readonly prevHash: string | null;
  readonly hash: string | null;
}

/** The canonical encoding version of an entry; part of what is hashed. */
export const POLICY_CHAIN_VERSION = 1;

/** What is hashed for one entry: its canonical encoding, the previous hash included. */
export function policyEntryHashInput(entry: Omit<PolicyVersionEntry, 'hash'>): string {
  return canonicalJson({
    v: POLICY_CHAIN_VERSION,
    log: 'policy',
    source: entry.source,
    name: entry.name,
    seq: entry.seq,
    version: entry.version,
    content: entry.content,
    firstSeenAt: entry.firstSeenAt,
    prevHash: entry.prevHash,
  });
}

/** How an entry is named where the log is verified: `policy:NAME#SEQ`. */
export function policyEntryId(entry: Pick<PolicyVersionEntry, 'source' | 'name' | 'seq'>): string {
  return `${entry.source}:${entry.name}#${entry.seq}`;
}

/** Checks one policy's entries (in `seq` order); returns the first broken one, or undefined. */
export function findBrokenPolicyEntry(
  entries: readonly PolicyVersionEntry[],
  sha256Hex: (text: string) => string,
): BrokenLink | undefined {
  const links = entries.map((entry) => ({ ...entry, id: policyEntryId(entry), type: 'policy.version' }));
  return findBrokenChainLink(links, (link) => sha256Hex(policyEntryHashInput(link)));
}

/** A policy's key in maps: its source and name. */
export function policyKey(entry: { readonly source: PolicySource; readonly name: string }): string {
  return `${entry.source}:${entry.name}`;
}

/** What an instance appends: a version it loaded, or that a policy is gone (version and content null). */
export type PolicyChange =
  | LoadedPolicy
  | {
      readonly source: PolicySource;
      readonly name: string;
      readonly version: null;
      readonly content: null;
    };

/**
 * What to append so that each policy's last entry says what is loaded now: the version of a
 * policy that is new or changed, and a removal for one the files no longer hold. `last` holds
 * the last entry of each policy in the log, by `policyKey`.
 */
export function policyLogChanges(
  last: ReadonlyMap<string, PolicyVersionEntry>,
  loaded: readonly LoadedPolicy[],
): PolicyChange[] {
  const changed: PolicyChange[] = loaded.filter(
    (policy) => last.get(policyKey(policy))?.version !== policy.version,
  );
  const present = new Set(loaded.map(policyKey));
  for (const entry of last.values())
    if (entry.version !== null && !present.has(policyKey(entry)))
      changed.push({ source: entry.source, name: entry.name, version: null, content: null });
  return changed;
}

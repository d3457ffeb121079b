import { createHash } from 'node:crypto';
import { BROKEN_LINK_REASONS, type BrokenLink } from '../core/audit-chain.js';
import {
  findBrokenPolicyEntry,
  type LoadedPolicy,
  type PolicySource,
  type PolicyVersionEntry,
  policyEntryHashInput,
  policyKey,
  policyLogChanges,
} from '../core/policy-version.js';
import { type Db, isUniqueViolation } from '../store/database.js';
import {
  insertPolicyVersion,
  listPolicyLog,
  listPolicyVersions,
  lockPolicyLog,
} from '../store/policy-versions.js';

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The last entry of each policy in the log, by `policyKey`. */
function lastEntries(log: readonly PolicyVersionEntry[]): Map<string, PolicyVersionEntry> {
  const last = new Map<string, PolicyVersionEntry>();
  for (const entry of log) last.set(policyKey(entry), entry);
  return last;
}

/** Appends what changed since the log's last entries, chained onto them; returns how many. */
async function appendChanges(db: Db, loaded: readonly LoadedPolicy[], now: Date): Promise<number> {
  await lockPolicyLog(db);
  const last = lastEntries(await listPolicyLog(db));
  const changes = policyLogChanges(last, loaded);
  for (const change of changes) {
    const before = last.get(policyKey(change));
    const entry = {
      ...change,
      seq: (before?.seq ?? 0) + 1,
      firstSeenAt: now.getTime(),
      prevHash: before?.hash ?? null,
    };
    await insertPolicyVersion(db, { ...entry, hash: sha256Hex(policyEntryHashInput(entry)) });
  }
  return changes.length;
}

const ATTEMPTS = 3;

/**
 * Records the policies this instance loaded at start in the policy change log: a policy new
 * or changed since the log's last entry of it gets an entry, and one the files no longer hold
 * an entry saying so. Instances starting together take turns; one that finds a place taken
 * reads the log again. Returns how many entries were appended.
 */
export async function recordPolicyVersions(
  db: Db,
  loaded: readonly LoadedPolicy[],
  now: Date,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => appendChanges(trx, loaded, now));
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** One entry of a policy's change log as the API shows it. */
export interface PolicyVersionView {
  readonly seq: number;
  readonly version: string | null;
  readonly content: unknown;
  readonly firstSeenAt: string;
  readonly prevHash: string | null;
  readonly hash: string | null;
}

/** A policy's versions, what this instance holds, and whether the log's chain verifies. */
export interface PolicyHistory {
  readonly policy: string;
  readonly current: string | null;
  readonly items: PolicyVersionView[];
  readonly broken: (BrokenLink & { readonly why: string }) | null;
}

/**
 * Every version of one named policy in the change log, oldest first, with the version this
 * instance loaded (`current`, undefined when it holds no such policy). Undefined when the
 * policy is neither loaded nor in the log.
 */
export async function policyHistory(
  db: Db,
  name: string,
  current: string | undefined,
): Promise<PolicyHistory | undefined> {
  const entries = await listPolicyVersions(db, 'policy', name);
  if (entries.length === 0 && current === undefined) return undefined;
  const broken = findBrokenPolicyEntry(entries, sha256Hex);
  return {
    policy: name,
    current: current ?? null,
    items: entries.map((entry) => ({
      seq: entry.seq,
      version: entry.version,
      content: entry.content,
      firstSeenAt: new Date(entry.firstSeenAt).toISOString(),
      prevHash: entry.prevHash,
      hash: entry.hash,
    })),
    broken: broken ? { ...broken, why: BROKEN_LINK_REASONS[broken.reason] } : null,
  };
}

/** What verifying the whole change log found: entries checked, and each policy's first broken entry. */
export interface PolicyLogCheck {
  readonly entries: number;
  readonly policies: {
    readonly source: PolicySource;
    readonly name: string;
    readonly broken: (BrokenLink & { readonly why: string }) | null;
  }[];
}

/** Verifies the chain of every policy (and routing file) of a change log, as read. */
export function checkPolicyLog(log: readonly PolicyVersionEntry[]): PolicyLogCheck {
  const byPolicy = new Map<string, PolicyVersionEntry[]>();
  for (const entry of log) byPolicy.set(policyKey(entry), [...(byPolicy.get(policyKey(entry)) ?? []), entry]);
  const policies = [...byPolicy.values()].map((entries) => {
    const [first] = entries as [PolicyVersionEntry];
    const broken = findBrokenPolicyEntry(entries, sha256Hex);
    return {
      source: first.source,
      name: first.name,
      broken: broken ? { ...broken, why: BROKEN_LINK_REASONS[broken.reason] } : null,
    };
  });
  return { entries: log.length, policies };
}

/** Verifies the chain of every policy (and routing file) in the change log. */
export async function verifyPolicyChains(db: Db): Promise<PolicyLogCheck> {
  return checkPolicyLog(await listPolicyLog(db));
}

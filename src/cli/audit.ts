import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { databaseOptions, loadConfig } from '../config.js';
import { BROKEN_LINK_REASONS, checkChain } from '../core/audit-chain.js';
import { SignoffError } from '../core/errors.js';
import { verifyPolicyChains } from '../governance/policy-log.js';
import { approvalExists } from '../store/approvals.js';
import {
  listAudit,
  listAuditedApprovals,
  listAuditSince,
  type StoredAuditEvent,
  toChainedEvent,
} from '../store/audit.js';
import { type Db, openDatabase } from '../store/database.js';
import type { Output } from './output.js';
import { EXIT } from './wait.js';

const PAGE = 500;

/**
 * Opens the database serve uses, without migrating it: these commands only read, and they read
 * the rows as stored rather than through the API, so a server that lies cannot vouch for itself.
 */
export async function withStoredAudit<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = openDatabase(databaseOptions(config));
  try {
    return await work(db);
  } catch (error) {
    if (error instanceof SignoffError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new SignoffError(
      'internal',
      `could not read the audit trail (${reason}); is the database reachable and migrated (signoff migrate)?`,
      { cause: error },
    );
  } finally {
    await db.destroy();
  }
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every approval id with an audit trail, a page at a time. */
async function* auditedApprovals(db: Db): AsyncGenerator<string> {
  let after = '';
  for (;;) {
    const page = await listAuditedApprovals(db, after, PAGE);
    yield* page;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) return;
    after = last;
  }
}

/** What verifying found: chains and events checked, chains broken, ids that name nothing. */
interface Tally {
  chains: number;
  events: number;
  broken: number;
  readonly unknown: string[];
}

/** Verifies one approval's chain into the tally, printing it when it is broken. */
async function verifyOne(db: Db, out: Output, approvalId: string, tally: Tally): Promise<void> {
  const check = checkChain((await listAudit(db, approvalId)).map(toChainedEvent), sha256Hex);
  // A stored approval without events lost them; an id with neither is a typo (or gone whole).
  if (check.events === 0 && !(await approvalExists(db, approvalId))) {
    tally.unknown.push(approvalId);
    return;
  }
  tally.chains++;
  tally.events += check.events;
  if (check.verified) return;
  tally.broken++;
  const link = check.broken;
  out.print(
    link
      ? `broken: ${link.id} (event ${link.seq}, ${link.type}) of ${approvalId}: ${BROKEN_LINK_REASONS[link.reason]}`
      : `broken: ${approvalId} has no audit events`,
  );
}

/** Verifies the policy change log's chains, printing each broken one; returns how many are broken. */
async function verifyPolicyLog(db: Db, out: Output): Promise<number> {
  const log = await verifyPolicyChains(db);
  for (const { name, broken } of log.policies)
    if (broken) out.print(`broken: ${broken.id} of the policy change log (${name}): ${broken.why}`);
  const broken = log.policies.filter((p) => p.broken).length;
  out.log(
    broken === 0
      ? `verified ${log.entries} entries of the policy change log (${log.policies.length} policies and files)`
      : `${broken} of ${log.policies.length} policies have a broken change log`,
  );
  return broken;
}

/** The summary line of the approvals' chains. */
function tallyLine(tally: Tally): string {
  return tally.broken === 0
    ? `verified ${tally.events} events in ${tally.chains} approvals`
    : `${tally.broken} of ${tally.chains} approvals have a broken audit chain`;
}

/**
 * `signoff audit verify [ID…]`: recomputes each approval's chain (every approval, and the
 * policy change log, when no id is given). Returns 0 when all verify, 1 naming the first broken
 * event of each broken chain, and otherwise 3 when a named id is neither an approval nor in the
 * audit trail.
 */
export async function verifyAudit(out: Output, ids: readonly string[]): Promise<number> {
  return withStoredAudit(async (db) => {
    const tally: Tally = { chains: 0, events: 0, broken: 0, unknown: [] };
    for await (const approvalId of ids.length > 0 ? ids : auditedApprovals(db))
      await verifyOne(db, out, approvalId, tally);
    if (tally.chains > 0 || tally.unknown.length === 0) out.log(tallyLine(tally));
    const policiesBroken = ids.length > 0 ? 0 : await verifyPolicyLog(db, out);
    for (const id of tally.unknown) out.log(`error: no approval ${id}, and no audit events of it`);
    // A broken chain is the finding that matters most, whatever else went wrong.
    if (tally.broken > 0 || policiesBroken > 0) return 1;
    return tally.unknown.length > 0 ? EXIT.error : 0;
  });
}

/** One event as a JSON line: the chain fields included, so a SIEM can verify on its side. */
function exportLine(event: StoredAuditEvent): string {
  return JSON.stringify({
    id: event.id,
    approvalId: event.approvalId,
    seq: event.seq,
    type: event.type,
    actor: event.actor,
    data: event.data,
    at: event.at.toISOString(),
    prevHash: event.prevHash,
    hash: event.hash,
  });
}

/**
 * `signoff audit export`: events written since `since`, oldest first, one JSON object a line on
 * stdout. `after` (an event id) resumes where an earlier export stopped.
 */
export async function exportAudit(options: { since: Date; after?: string | undefined }): Promise<number> {
  return withStoredAudit(async (db) => {
    let afterId = options.after ?? '';
    for (;;) {
      const page = await listAuditSince(db, options.since.getTime(), afterId, PAGE);
      if (page.length === 0) return 0;
      const text = `${page.map(exportLine).join('\n')}\n`;
      if (!process.stdout.write(text)) await once(process.stdout, 'drain');
      afterId = page.at(-1)?.id ?? afterId;
      if (page.length < PAGE) return 0;
    }
  });
}

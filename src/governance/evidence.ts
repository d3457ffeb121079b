import { createHash, randomBytes } from 'node:crypto';
import { sampleIds } from '../core/evidence-summary.js';
import type { Approval } from '../core/model.js';
import type { PolicyVersionEntry } from '../core/policy-version.js';
import { type CreatedCursor, listApprovalsCreatedBetween } from '../store/approval-period.js';
import { listAuditOfApprovals, type StoredAuditEvent, toChainedEvent } from '../store/audit.js';
import type { Db } from '../store/database.js';
import { listPolicyLog } from '../store/policy-versions.js';
import { approvalEvidence, type FirstSeen } from './evidence-approval.js';
import type { ApprovalEvidence, EvidencePack } from './evidence-schema.js';
import { summarize, versionsInForce } from './evidence-totals.js';
import { checkPolicyLog } from './policy-log.js';

/** What a pack is asked for: a period (from inclusive, to exclusive) and, maybe, a sample. */
export interface EvidenceRequest {
  readonly from: Date;
  readonly to: Date;
  /** List this many approvals picked at random instead of all (the summary still counts all). */
  readonly sample?: number | undefined;
  /** Picks the sample: the same seed, the same sample. A random one is drawn (and told) when absent. */
  readonly seed?: string | undefined;
}

const PAGE = 500;
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The approvals created in the period, a page at a time, oldest first. */
async function* approvalPages(db: Db, period: { from: number; to: number }): AsyncGenerator<Approval[]> {
  let after: CreatedCursor | undefined;
  for (;;) {
    const page = await listApprovalsCreatedBetween(db, period, after, PAGE);
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < PAGE) return;
    after = { createdAt: last.createdAt.getTime(), id: last.id };
  }
}

/** When each named policy's version was first seen: the change log's earliest entry of it. */
function firstSeenIn(log: readonly PolicyVersionEntry[]): FirstSeen {
  const seen = new Map<string, number>();
  for (const entry of log) {
    const key = `${entry.name}\n${entry.version}`;
    if (entry.source === 'policy' && entry.version !== null && !seen.has(key))
      seen.set(key, entry.firstSeenAt);
  }
  return (name, version) => {
    const at = seen.get(`${name}\n${version}`);
    return at === undefined ? undefined : new Date(at);
  };
}

/** Each approval's events, by approval id. */
function byApproval(events: readonly StoredAuditEvent[]): Map<string, StoredAuditEvent[]> {
  const grouped = new Map<string, StoredAuditEvent[]>();
  for (const event of events)
    grouped.set(event.approvalId, [...(grouped.get(event.approvalId) ?? []), event]);
  return grouped;
}

/**
 * The evidence pack of a period, read from the stored rows: every approval created in it
 * with its decisions, the policy version in force and its chain verified; the summary of
 * them all; the policy versions in force. With a sample, only the sampled approvals are listed.
 */
export async function buildEvidencePack(db: Db, request: EvidenceRequest, now: Date): Promise<EvidencePack> {
  const period = { from: request.from.getTime(), to: request.to.getTime() };
  const log = await listPolicyLog(db);
  const firstSeen = firstSeenIn(log);
  const all: ApprovalEvidence[] = [];
  for await (const page of approvalPages(db, period)) {
    const events = byApproval(
      await listAuditOfApprovals(
        db,
        page.map((a) => a.id),
      ),
    );
    for (const approval of page)
      all.push(
        approvalEvidence(approval, (events.get(approval.id) ?? []).map(toChainedEvent), firstSeen, now),
      );
  }
  const sample =
    request.sample === undefined
      ? null
      : { size: Math.min(request.sample, all.length), seed: request.seed ?? randomBytes(8).toString('hex') };
  const chosen =
    sample &&
    sampleIds(
      all.map((a) => a.id),
      sample.size,
      sample.seed,
      sha256Hex,
    );
  return {
    generatedAt: now.toISOString(),
    period: { from: request.from.toISOString(), to: request.to.toISOString() },
    sample,
    summary: summarize(all, checkPolicyLog(log)),
    policyVersions: versionsInForce(log, period),
    approvals: chosen ? all.filter((a) => chosen.has(a.id)) : all,
  };
}

import { timeToDecision } from '../core/evidence-summary.js';
import { APPROVAL_STATUSES, type ApprovalStatus } from '../core/model.js';
import type { PolicyVersionEntry } from '../core/policy-version.js';
import { policyKey } from '../core/policy-version.js';
import { chainText } from './evidence-approval.js';
import type { DecisionEvidence as EvidenceDecision } from './evidence-decisions.js';
import type { ApprovalEvidence, EvidencePack, EvidenceSummary } from './evidence-schema.js';
import type { PolicyLogCheck } from './policy-log.js';

/** The policy label the metrics use too: the named policy, or "inline". */
const policyLabel = (a: ApprovalEvidence) => a.policy.name ?? 'inline';

function countOutcomes(approvals: readonly ApprovalEvidence[]): Record<ApprovalStatus, number> {
  const counts = Object.fromEntries(APPROVAL_STATUSES.map((s) => [s, 0])) as Record<ApprovalStatus, number>;
  for (const approval of approvals) counts[approval.status]++;
  return counts;
}

/** Every approval whose chain does not verify, with where and why. */
function brokenChains(approvals: readonly ApprovalEvidence[]): EvidenceSummary['chain']['broken'] {
  return approvals
    .filter((a) => !a.chain.verified)
    .map((a) => ({ approvalId: a.id, at: a.chain.broken, why: chainText(a.chain) }));
}

/** Below this many approvals, never rejecting says nothing about an approver. */
const NEVER_REJECTS_AFTER = 5;

/** Each person's approvals and rejections in the period: an approver who never rejects shows. */
export function verdictsByApprover(decisions: readonly EvidenceDecision[]): EvidenceSummary['approvers'] {
  const counts = new Map<string, { approved: number; rejected: number }>();
  for (const d of decisions) {
    if (d.deciderKind !== 'person') continue;
    const count = counts.get(d.decider) ?? { approved: 0, rejected: 0 };
    if (d.verdict === 'approve') count.approved++;
    else count.rejected++;
    counts.set(d.decider, count);
  }
  return [...counts]
    .map(([approver, c]) => ({
      approver,
      ...c,
      neverRejects: c.rejected === 0 && c.approved >= NEVER_REJECTS_AFTER,
    }))
    .sort(
      (a, b) => b.approved + b.rejected - (a.approved + a.rejected) || a.approver.localeCompare(b.approver),
    );
}

/** The summary of a whole period (never only the sample): outcomes, timings, and what verifies. */
export function summarize(
  approvals: readonly ApprovalEvidence[],
  policyLog: PolicyLogCheck,
): EvidenceSummary {
  const decisions = approvals.flatMap((a) => a.decisions);
  const broken = brokenChains(approvals);
  const policyBroken = policyLog.policies.flatMap((p) =>
    p.broken ? [{ policy: `${p.source}:${p.name}`, at: p.broken }] : [],
  );
  return {
    approvals: approvals.length,
    outcomes: countOutcomes(approvals),
    timeToDecision: timeToDecision(
      approvals.flatMap((a) =>
        a.timeToDecisionMs === null ? [] : [{ policy: policyLabel(a), durationMs: a.timeToDecisionMs }],
      ),
    ),
    decisions: decisions.length,
    decidedByRequester: decisions.filter((d) => d.deciderIsRequester === true).length,
    breakGlass: approvals.filter((a) => a.breakGlass !== null).length,
    breakGlassReviewsOverdue: approvals.filter((a) => a.breakGlass?.overdue === true).length,
    delegated: decisions.filter((d) => d.onBehalfOf !== null).length,
    approvers: verdictsByApprover(decisions),
    resumedBeforeDecision: approvals.filter((a) => a.resume.decidedBeforeResume === false).length,
    policyUnverified: approvals.filter((a) => a.policy.verified === false || a.policy.onChain === false)
      .length,
    chain: {
      verified: broken.length === 0,
      approvals: approvals.length,
      events: approvals.reduce((sum, a) => sum + a.chain.events, 0),
      broken,
    },
    policyLog: { verified: policyBroken.length === 0, entries: policyLog.entries, broken: policyBroken },
  };
}

/**
 * The versions in force at some time of the period: each policy's last version first seen
 * before it, and every one first seen within it.
 */
export function versionsInForce(
  log: readonly PolicyVersionEntry[],
  period: { readonly from: number; readonly to: number },
): EvidencePack['policyVersions'] {
  const before = new Map<string, PolicyVersionEntry>();
  const within: PolicyVersionEntry[] = [];
  for (const entry of log) {
    if (entry.firstSeenAt < period.from) before.set(policyKey(entry), entry);
    else if (entry.firstSeenAt < period.to) within.push(entry);
  }
  return [...before.values(), ...within]
    .sort((a, b) => policyKey(a).localeCompare(policyKey(b)) || a.seq - b.seq)
    .map((entry) => ({
      source: entry.source,
      name: entry.name,
      seq: entry.seq,
      version: entry.version,
      firstSeenAt: new Date(entry.firstSeenAt).toISOString(),
    }));
}

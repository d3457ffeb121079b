import { createHash } from 'node:crypto';
import { BROKEN_LINK_REASONS, type ChainedEvent, checkChain } from '../core/audit-chain.js';
import {
  decisionEventOf,
  decisionsOf,
  policyInForce,
  resumeEventOf,
  separationOf,
} from '../core/evidence.js';
import type { Approval } from '../core/model.js';
import { policyVersionOf } from '../core/policy-version.js';
import { decisionEvidence } from './evidence-decisions.js';
import type { ApprovalEvidence } from './evidence-schema.js';

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const iso = (date: Date | null) => date?.toISOString() ?? null;

/** When a named policy's version was first seen, if the change log has it. */
export type FirstSeen = (name: string, version: string) => Date | undefined;

/** The chain of an approval as the pack shows it: its size, head and verification. */
function chainEvidence(events: readonly ChainedEvent[]): ApprovalEvidence['chain'] {
  const check = checkChain(events, sha256Hex);
  const broken = check.broken && { ...check.broken, why: BROKEN_LINK_REASONS[check.broken.reason] };
  return {
    events: check.events,
    headSeq: check.head?.seq ?? null,
    headHash: check.head?.hash ?? null,
    verified: check.verified,
    broken,
  };
}

/** A break-glass and its after-review, from the approval and its chain (the review is an event on it). */
function breakGlassEvidence(
  approval: Approval,
  events: readonly ChainedEvent[],
  now: Date,
): ApprovalEvidence['breakGlass'] {
  const glass = approval.breakGlass;
  if (!glass) return null;
  const reviewed = events.find((e) => e.type === 'break_glass.reviewed');
  const verdict = (reviewed?.data as { verdict?: unknown } | undefined)?.verdict;
  return {
    by: glass.by,
    reason: glass.reason,
    at: glass.at.toISOString(),
    reviewDueAt: glass.reviewDueAt.toISOString(),
    review: reviewed ? (verdict === 'flag' ? 'flagged' : 'confirmed') : 'open',
    reviewedBy: reviewed?.actor ?? null,
    reviewedAt: reviewed ? new Date(reviewed.at).toISOString() : null,
    overdue: !reviewed && glass.reviewDueAt < now,
  };
}

/** Everything the pack says of one approval, from the approval and its chain (in `seq` order). */
export function approvalEvidence(
  approval: Approval,
  events: readonly ChainedEvent[],
  firstSeen: FirstSeen,
  now: Date,
): ApprovalEvidence {
  const resumed = resumeEventOf(events);
  const resumedAt = resumed ? new Date(resumed.at) : null;
  const policy = policyInForce(approval, events, {
    firstSeen,
    inlineVersion: (a) => policyVersionOf(a.policy, sha256Hex),
  });
  const decided = approval.status === 'approved' || approval.status === 'rejected';
  return {
    id: approval.id,
    title: approval.title,
    requester: approval.requester,
    requesterToken: approval.requesterToken
      ? `${approval.requesterToken.issuer} ${approval.requesterToken.subject}`
      : null,
    status: approval.status,
    createdAt: approval.createdAt.toISOString(),
    decidedAt: iso(approval.decidedAt),
    reason: approval.reason,
    timeToDecisionMs:
      decided && approval.decidedAt ? approval.decidedAt.getTime() - approval.createdAt.getTime() : null,
    policy: { ...policy, firstSeenAt: iso(policy.firstSeenAt) },
    breakGlass: breakGlassEvidence(approval, events, now),
    resume: {
      callback: approval.callback?.type ?? null,
      resumedAt: iso(resumedAt),
      decidedBeforeResume:
        resumedAt && approval.decidedAt ? approval.decidedAt.getTime() <= resumedAt.getTime() : null,
    },
    chain: chainEvidence(events),
    decisions: decisionsOf(approval).map((decision) =>
      decisionEvidence({
        decision,
        event: decisionEventOf(events, decision),
        resumedAt,
        separation: separationOf(approval, decision),
      }),
    ),
  };
}

/** The chain's verification in words, for CSV and HTML. */
export function chainText(chain: ApprovalEvidence['chain']): string {
  if (chain.verified) return 'verified';
  if (!chain.broken) return 'BROKEN: no audit events';
  const { id, seq, type, why } = chain.broken;
  return `BROKEN at ${id} (event ${seq}, ${type}): ${why}`;
}

const yesNo = (value: boolean | null) => (value === null ? '' : value ? 'yes' : 'NO');

/** The approval's own columns of the CSV and the HTML report, in order: header and text. */
export const APPROVAL_COLUMNS: readonly (readonly [string, (a: ApprovalEvidence) => string])[] = [
  ['approval', (a) => a.id],
  ['title', (a) => a.title],
  ['requester', (a) => a.requester ?? ''],
  ['requester token', (a) => a.requesterToken ?? ''],
  ['status', (a) => a.status],
  ['created at', (a) => a.createdAt],
  ['decided at', (a) => a.decidedAt ?? ''],
  ['time to decision (s)', (a) => (a.timeToDecisionMs === null ? '' : String(a.timeToDecisionMs / 1000))],
  ['policy', (a) => a.policy.name ?? '(inline)'],
  ['policy version', (a) => a.policy.version ?? ''],
  ['policy first seen', (a) => a.policy.firstSeenAt ?? ''],
  ['policy version verified', (a) => yesNo(a.policy.verified)],
  ['policy version on chain', (a) => yesNo(a.policy.onChain)],
  ['break-glass', (a) => (a.breakGlass ? `${a.breakGlass.by}: ${a.breakGlass.reason}` : '')],
  [
    'break-glass review',
    (a) =>
      a.breakGlass
        ? `${a.breakGlass.overdue ? 'OVERDUE' : a.breakGlass.review}${a.breakGlass.reviewedBy ? ` by ${a.breakGlass.reviewedBy}` : ''}`
        : '',
  ],
  ['callback', (a) => a.resume.callback ?? ''],
  ['resumed at', (a) => a.resume.resumedAt ?? ''],
  ['decided before resume', (a) => yesNo(a.resume.decidedBeforeResume)],
  ['chain events', (a) => String(a.chain.events)],
  ['chain head', (a) => (a.chain.headSeq === null ? '' : `${a.chain.headSeq} ${a.chain.headHash ?? ''}`)],
  ['chain', (a) => chainText(a.chain)],
];

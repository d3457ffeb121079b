import type { Actor, Approval, ApprovalStatus, BoundAction } from './model.js';
import { isRequester } from './stages.js';

/** What a standing grant allows again: the exact action (by its hash), or any call of one tool. */
export const GRANT_MATCHES = ['action', 'tool'] as const;
export type GrantMatch = (typeof GRANT_MATCHES)[number];

/**
 * An approver's "approve, and the same again for the next N uses or T, for this requester".
 * A use is the granter's own approval, given for them on a new request that matches: it
 * counts as their seat in the gate, never as anyone else's.
 */
export interface StandingGrant {
  readonly id: string;
  /** The approval it was granted on. */
  readonly approvalId: string;
  /** Where that approval stands: a grant approves anything only once it was approved. */
  readonly grantedOnStatus: ApprovalStatus;
  /** Who granted it, as they were when they approved: their identity, groups and token. */
  readonly granter: Actor;
  /** Whom it is for: the requester and the owner scope of the approval it was granted on. */
  readonly requester: string | null;
  readonly owner: string;
  /** The gate it holds for: a hash of the approval's whole policy, and the stage decided. */
  readonly policyHash: string;
  readonly stage: string;
  readonly match: GrantMatch;
  readonly actionHash: string | null;
  readonly tool: string | null;
  readonly maxUses: number;
  readonly uses: number;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
}

/** What an approver asks to allow again. */
export interface GrantTerms {
  readonly uses: number;
  readonly durationMs: number;
  readonly match: GrantMatch;
}

/** The most an operator lets a grant allow; `maxUses` 0 turns grants off. */
export interface GrantLimits {
  readonly maxUses: number;
  readonly maxDurationMs: number;
}

/** The tool an action names (`{ tool, arguments }`), if it names one. */
export function toolOf(action: BoundAction | null): string | null {
  const tool = action?.content.tool;
  return typeof tool === 'string' && tool.length > 0 ? tool : null;
}

/**
 * Why `granter` may not attach `terms` to their approval of `approval`, or undefined when they
 * may. Only someone who could approve grants (the decision itself checks that), never the
 * requester, and only for an approval of an action.
 */
export function grantRefusal(
  approval: Approval,
  granter: {
    readonly actor: string;
    readonly issuer?: string | undefined;
    readonly subject?: string | undefined;
  },
  terms: GrantTerms,
  limits: GrantLimits,
): string | undefined {
  if (limits.maxUses === 0)
    return 'Standing grants are off on this server: an operator turns them on with SIGNOFF_GRANT_MAX_USES.';
  if (!approval.action) return 'Only an approval of an action can be granted again; this one names none.';
  if (terms.match === 'tool' && !toolOf(approval.action))
    return 'This action names no tool, so only the exact action can be granted again.';
  if (!approval.owner) return 'This approval is from before grants, so whom a grant would be for is unknown.';
  if (isRequester(approval, granter)) return 'The requester may not grant their own requests.';
  if (terms.uses > limits.maxUses)
    return `A grant allows at most ${limits.maxUses} uses here (SIGNOFF_GRANT_MAX_USES).`;
  if (terms.durationMs > limits.maxDurationMs)
    return `A grant lasts at most ${Math.round(limits.maxDurationMs / 60_000)} minutes here (SIGNOFF_GRANT_MAX_DURATION).`;
  return undefined;
}

/**
 * Whether `grant` may approve, for its granter, the stage `stage` of a new approval whose
 * policy hashes to `policyHash`: the same requester and owner, the same gate, the action it
 * allows, and uses and time left.
 */
export function grantCovers(
  grant: StandingGrant,
  approval: Approval,
  stage: string,
  policyHash: string,
  now: Date,
): boolean {
  if (!grantActive(grant, now)) return false;
  if (approval.owner !== grant.owner || approval.requester !== grant.requester) return false;
  if (grant.policyHash !== policyHash || grant.stage !== stage || !approval.action) return false;
  return grant.match === 'action'
    ? approval.action.hash === grant.actionHash
    : toolOf(approval.action) === grant.tool;
}

/**
 * Whether a grant allows anything now: not revoked, not past its end, uses left, and the
 * approval it was granted on approved (not still waiting, rejected or called off).
 */
export function grantActive(grant: StandingGrant, now: Date): boolean {
  return (
    grant.grantedOnStatus === 'approved' &&
    grant.revokedAt === null &&
    now < grant.expiresAt &&
    grant.uses < grant.maxUses
  );
}

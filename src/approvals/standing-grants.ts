import { decide } from '../core/approval.js';
import { parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import type { Actor, Approval } from '../core/model.js';
import { currentStage } from '../core/stages.js';
import {
  type GrantMatch,
  type GrantTerms,
  grantCovers,
  grantRefusal,
  type StandingGrant,
  toolOf,
} from '../core/standing-grant.js';
import { DURATION_HINT } from '../policies/spec.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import { findLiveGrantsFor, insertStandingGrant, takeGrantUse } from '../store/standing-grants.js';
import { audit } from '../unit-of-work/audit.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import { policyHash } from './action.js';
import type { DecisionSteps } from './decide.js';
import { commitTransition } from './transition.js';

/** The terms of a grant as a request spells them; refuses a duration that is none. */
export function grantTermsOf(asked: {
  readonly uses: number;
  readonly for: string | number;
  readonly match?: GrantMatch | undefined;
}): GrantTerms {
  if (!Number.isInteger(asked.uses) || asked.uses < 1)
    throw new SignoffError('invalid_input', 'grant.uses must be a whole number, 1 or more.', {
      details: { issues: [{ path: '/grant/uses', message: 'grant.uses must be a whole number, 1 or more' }] },
    });
  const durationMs = parseDuration(asked.for);
  if (durationMs === undefined || durationMs <= 0)
    throw new SignoffError('invalid_input', `grant.for must be ${DURATION_HINT}.`, {
      details: { issues: [{ path: '/grant/for', message: `grant.for must be ${DURATION_HINT}` }] },
    });
  return { uses: asked.uses, durationMs, match: asked.match ?? 'action' };
}

/**
 * The step that makes a standing grant with an approval, in the decision's transaction: a
 * refused grant refuses the whole decision, so nothing is half done.
 */
export function grantStep(
  services: Services,
  granter: Actor,
  terms: GrantTerms,
): NonNullable<DecisionSteps['afterDecide']> {
  return async (unit, { before, after, decision }) => {
    if (decision.verdict !== 'approve')
      throw new SignoffError('invalid_input', 'Only an approval can allow the same action again.');
    const refusal = grantRefusal(
      before,
      { actor: decision.actor, issuer: granter.issuer, subject: granter.subject },
      terms,
      services.config.grantLimits,
    );
    // Checked above by grantRefusal; the type does not know.
    if (refusal || !before.action || !before.owner)
      throw new SignoffError('grant_not_allowed', refusal ?? '');
    const grant: StandingGrant = {
      id: unit.newId('grt'),
      approvalId: before.id,
      grantedOnStatus: after.status,
      granter: { ...granter, id: decision.actor },
      requester: before.requester,
      owner: before.owner,
      policyHash: policyHash(before.policy),
      stage: decision.stage,
      match: terms.match,
      actionHash: terms.match === 'action' ? before.action.hash : null,
      tool: terms.match === 'tool' ? toolOf(before.action) : null,
      maxUses: terms.uses,
      uses: 0,
      createdAt: unit.now,
      expiresAt: new Date(unit.now.getTime() + terms.durationMs),
      revokedAt: null,
      revokedBy: null,
    };
    await insertStandingGrant(unit.db, grant);
    await audit(unit, before.id, {
      type: 'grant.created',
      actor: decision.actor,
      data: {
        grantId: grant.id,
        stage: grant.stage,
        requester: grant.requester,
        match: grant.match,
        actionHash: grant.actionHash,
        tool: grant.tool,
        maxUses: grant.maxUses,
        expiresAt: grant.expiresAt.toISOString(),
      },
    });
  };
}

/** One use of a grant on a new approval: the grant, the stage it approved, which use it was. */
interface GrantUse {
  readonly grant: StandingGrant;
  readonly stage: string;
  readonly use: number;
}

/**
 * Uses `grant` on the stage of `approval` that waits, if it covers it: its granter's own
 * approval, through `decide`, written with the use taken. Returns the approval as it then
 * stands and the use, or undefined when the grant does not apply (or has no use left).
 */
async function useGrant(
  unit: UnitOfWork,
  approval: Approval,
  grant: StandingGrant,
  policy: string,
): Promise<{ approval: Approval; use: GrantUse } | undefined> {
  const stage = currentStage(approval);
  if (approval.status !== 'pending' || stage?.type !== 'human') return undefined;
  if (!grantCovers(grant, approval, stage.name, policy, unit.now)) return undefined;
  const result = decide(
    approval,
    {
      actor: grant.granter,
      verdict: 'approve',
      comment: `Approved by standing grant ${grant.id}, granted on ${grant.approvalId}.`,
      via: 'grant',
      stage: stage.name,
    },
    unit.now,
    unit.newId('dec'),
    reviewRules,
  );
  // The granter no longer fits this gate (or already decided): the grant is not used.
  if (!result.ok) return undefined;
  const use = await takeGrantUse(unit.db, grant.id, unit.now);
  if (use === undefined) return undefined;
  await commitTransition(unit, {
    before: approval,
    after: result.approval,
    decision: result.decision,
    actor: grant.granter.id,
  });
  // The row's version moved on with the write.
  return {
    approval: { ...result.approval, version: approval.version + 1 },
    use: { grant, stage: stage.name, use },
  };
}

/** Records each use on the new approval's chain, then on the chains of the approvals granted on. */
async function auditUses(unit: UnitOfWork, approvalId: string, uses: readonly GrantUse[]): Promise<void> {
  const entry = ({ grant, stage, use }: GrantUse, where: Record<string, string>) => ({
    type: 'grant.used' as const,
    actor: grant.granter.id,
    data: { grantId: grant.id, stage, use, maxUses: grant.maxUses, ...where },
  });
  for (const use of uses) await audit(unit, approvalId, entry(use, { grantedOn: use.grant.approvalId }));
  const byOrigin = [...uses].sort((a, b) => a.grant.approvalId.localeCompare(b.grant.approvalId));
  for (const use of byOrigin) await audit(unit, use.grant.approvalId, entry(use, { usedOn: approvalId }));
}

/**
 * Gives, on a new approval, the approvals its standing grants cover: each as its granter's
 * own decision on the stage that waits, through `decide`, with the use counted on the grant
 * and recorded on both approvals' audit chains. Returns the approval as it then stands.
 *
 * Locks are taken in one order, as revoking takes them: the grants' rows (oldest grant
 * first), then the chains of the approvals they were granted on.
 */
export async function useStandingGrants(unit: UnitOfWork, approval: Approval): Promise<Approval> {
  if (!approval.action || !approval.owner || approval.status !== 'pending') return approval;
  const grants = await findLiveGrantsFor(unit.db, approval.owner, unit.now);
  if (grants.length === 0) return approval;
  const policy = policyHash(approval.policy);
  const uses: GrantUse[] = [];
  let current = approval;
  // A passed stage may be followed by another that other grants cover.
  for (let progressed = true; progressed; ) {
    progressed = false;
    for (const grant of grants.filter((g) => !uses.some((u) => u.grant.id === g.id))) {
      const used = await useGrant(unit, current, grant, policy);
      if (!used) continue;
      uses.push(used.use);
      current = used.approval;
      progressed = true;
    }
  }
  await auditUses(unit, current.id, uses);
  return current;
}

/**
 * What a person deciding `approval` may offer to allow again, or undefined when they may not
 * grant: grants are off, it names no action, or they asked for it.
 */
export function grantOffer(
  services: Services,
  approval: Approval,
  person: {
    readonly actor: string;
    readonly issuer?: string | undefined;
    readonly subject?: string | undefined;
  },
): { maxUses: number; maxDurationMs: number; tool: string | null } | undefined {
  const limits = services.config.grantLimits;
  const terms = { uses: 1, durationMs: 1, match: 'action' as const };
  if (grantRefusal(approval, person, terms, limits) !== undefined) return undefined;
  return { ...limits, tool: toolOf(approval.action) };
}

// Standing grants: an approver approves and allows the same action again, for the same
// requester and the same gate, a bounded number of times. A use is that approver's own
// approval, given for them through the one decision path (`decide`), so every rule of the
// gate holds: their seat counts once, quorum still needs the others, the requester never
// approves their own request.
import { hasUnrestrictedPermission, type Principal } from '../auth/principal.js';
import { decide } from '../core/approval.js';
import { parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import type { Actor, Approval } from '../core/model.js';
import { currentStage } from '../core/stages.js';
import {
  type GrantMatch,
  type GrantTerms,
  grantActive,
  grantCovers,
  grantRefusal,
  type StandingGrant,
  toolOf,
} from '../core/standing-grant.js';
import { DURATION_HINT } from '../policies/spec.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import {
  findLiveGrantsFor,
  findStandingGrant,
  insertStandingGrant,
  listStandingGrants,
  revokeStandingGrantRow,
  takeGrantUse,
} from '../store/standing-grants.js';
import { audit } from '../unit-of-work/audit.js';
import { runUnitOfWork, type UnitOfWork } from '../unit-of-work/context.js';
import { policyHash } from './action.js';
import type { DecisionSteps } from './decide.js';
import { commitTransition } from './transition.js';

/** The terms of a grant as a request spells them; refuses a duration that is none. */
export function grantTermsOf(asked: {
  readonly uses: number;
  readonly for: string | number;
  readonly match?: GrantMatch | undefined;
}): GrantTerms {
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
  return async (unit, { before, decision }) => {
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

/**
 * Gives, on a new approval, the approvals its standing grants cover: each as its granter's
 * own decision on the stage that waits, through `decide`, with the use counted on the grant
 * and recorded on both approvals' audit chains. Returns the approval as it then stands.
 */
export async function useStandingGrants(unit: UnitOfWork, approval: Approval): Promise<Approval> {
  if (!approval.action || !approval.owner || approval.status !== 'pending') return approval;
  const grants = await findLiveGrantsFor(unit.db, approval.owner, unit.now);
  if (grants.length === 0) return approval;
  const hash = policyHash(approval.policy);
  const used = new Set<string>();
  let current = approval;
  // A passed stage may be followed by another that other grants cover.
  for (let progressed = true; progressed && current.status === 'pending'; ) {
    progressed = false;
    for (const grant of grants) {
      const stage = currentStage(current);
      if (current.status !== 'pending' || stage?.type !== 'human') return current;
      if (used.has(grant.id) || !grantCovers(grant, current, stage.name, hash, unit.now)) continue;
      const result = decide(
        current,
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
      if (!result.ok) continue;
      const use = await takeGrantUse(unit.db, grant.id, unit.now);
      if (use === undefined) continue;
      used.add(grant.id);
      await commitTransition(unit, {
        before: current,
        after: result.approval,
        decision: result.decision,
        actor: grant.granter.id,
      });
      const data = { grantId: grant.id, stage: stage.name, use, maxUses: grant.maxUses };
      await audit(unit, current.id, {
        type: 'grant.used',
        actor: grant.granter.id,
        data: { ...data, grantedOn: grant.approvalId },
      });
      await audit(unit, grant.approvalId, {
        type: 'grant.used',
        actor: grant.granter.id,
        data: { ...data, usedOn: current.id },
      });
      current = result.approval;
      progressed = true;
    }
  }
  return current;
}

/** Who lists or ends grants: a person (or none), and whether they see every grant. */
export interface GrantHandler {
  readonly actor: string | null;
  readonly admin: boolean;
  /** How an ending is recorded. */
  readonly name: string;
}

/** An API credential as one who lists or ends grants. */
export function grantHandlerOf(principal: Principal): GrantHandler {
  return {
    actor: principal.actor,
    admin: hasUnrestrictedPermission(principal, 'admin'),
    name: principal.actor ?? `credential ${principal.credentialId}`,
  };
}

/** Whether a grant concerns `who`: its granter, its requester, or an admin. */
function concerns(who: GrantHandler, grant: StandingGrant): boolean {
  return (
    who.admin || (who.actor !== null && (who.actor === grant.granter.id || who.actor === grant.requester))
  );
}

/** The grants `who` made or that are for their requests (every grant, for an admin). */
export async function listGrants(services: Services, who: GrantHandler): Promise<StandingGrant[]> {
  if (!who.admin && who.actor === null) return [];
  return listStandingGrants(services.db, {
    person: who.admin ? undefined : (who.actor ?? undefined),
    limit: 200,
  });
}

/**
 * Ends a grant at once, recorded on the chain of the approval it was granted on. Ending one
 * already ended changes nothing. Its granter, its requester or an admin may.
 */
export async function revokeGrant(services: Services, who: GrantHandler, id: string): Promise<StandingGrant> {
  const found = await findStandingGrant(services.db, id);
  if (!found || !concerns(who, found)) throw new SignoffError('not_found', `No grant ${id}.`);
  await runUnitOfWork(services, async (unit) => {
    if (!(await revokeStandingGrantRow(unit.db, id, who.name, unit.now))) return;
    await audit(unit, found.approvalId, {
      type: 'grant.revoked',
      actor: who.name,
      data: { grantId: id, usesLeft: Math.max(0, found.maxUses - found.uses) },
    });
  });
  const revoked = await findStandingGrant(services.db, id);
  if (!revoked) throw new Error(`grant ${id} vanished while being revoked`);
  return revoked;
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

/** A grant as the API and the pages show it. */
export function grantView(grant: StandingGrant, now: Date) {
  return {
    id: grant.id,
    approvalId: grant.approvalId,
    granter: grant.granter.id,
    requester: grant.requester,
    stage: grant.stage,
    match: grant.match,
    actionHash: grant.actionHash,
    tool: grant.tool,
    uses: grant.uses,
    maxUses: grant.maxUses,
    createdAt: grant.createdAt.toISOString(),
    expiresAt: grant.expiresAt.toISOString(),
    revokedAt: grant.revokedAt?.toISOString() ?? null,
    revokedBy: grant.revokedBy,
    active: grantActive(grant, now),
  };
}

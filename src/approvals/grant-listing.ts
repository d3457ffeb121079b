// Standing grants as their granters, requesters and admins see and end them.
import { hasUnrestrictedPermission, type Principal } from '../auth/principal.js';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import { grantActive, type StandingGrant } from '../core/standing-grant.js';
import type { Services } from '../services.js';
import { findStandingGrant, listStandingGrants, revokeStandingGrantRow } from '../store/standing-grants.js';
import { audit } from '../unit-of-work/audit.js';
import { runUnitOfWork } from '../unit-of-work/context.js';

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

/** `who`'s identity spelled as approvals store identities (case, plus addresses), if any. */
function personOf(services: Services, who: GrantHandler): string | null {
  return who.actor === null ? null : normalizeIdentity(who.actor, services.config.identity);
}

/** Whether a grant concerns `who`: its granter, its requester, or an admin. */
function concerns(services: Services, who: GrantHandler, grant: StandingGrant): boolean {
  const person = personOf(services, who);
  return who.admin || (person !== null && (person === grant.granter.id || person === grant.requester));
}

/** The grants `who` made or that are for their requests (every grant, for an admin), newest first. */
export async function listGrants(services: Services, who: GrantHandler): Promise<StandingGrant[]> {
  const person = personOf(services, who);
  if (!who.admin && person === null) return [];
  return listStandingGrants(services.db, {
    person: who.admin ? undefined : (person ?? undefined),
    limit: 200,
  });
}

/**
 * Ends a grant at once, recorded on the chain of the approval it was granted on. Ending one
 * already ended changes nothing. Its granter, its requester or an admin may.
 */
export async function revokeGrant(services: Services, who: GrantHandler, id: string): Promise<StandingGrant> {
  const found = await findStandingGrant(services.db, id);
  if (!found || !concerns(services, who, found)) throw new SignoffError('not_found', `No grant ${id}.`);
  await runUnitOfWork(services, async (unit) => {
    if (!(await revokeStandingGrantRow(unit.db, id, who.name, unit.now))) return;
    // Read again under the row's lock: uses taken meanwhile count.
    const ended = await findStandingGrant(unit.db, id);
    await audit(unit, found.approvalId, {
      type: 'grant.revoked',
      actor: who.name,
      data: { grantId: id, usesLeft: Math.max(0, (ended?.maxUses ?? 0) - (ended?.uses ?? 0)) },
    });
  });
  const revoked = await findStandingGrant(services.db, id);
  if (!revoked) throw new Error(`grant ${id} vanished while being revoked`);
  return revoked;
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

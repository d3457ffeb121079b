import { type DecisionInput, decide } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import type { Approval } from '../core/model.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/**
 * Records one verdict on an approval in one transaction. `beforeCommit` runs inside
 * the same transaction (a link marks itself used there, so a refused decision keeps it).
 */
export async function decideApproval(
  services: Services,
  id: string,
  input: DecisionInput,
  beforeCommit?: (unit: UnitOfWork, approval: Approval) => Promise<void>,
): Promise<Approval> {
  // Every channel's actor is spelled the way approvers and requesters were: one person, one identity.
  const actor = { ...input.actor, id: normalizeIdentity(input.actor.id, services.config.identity) };
  return withApproval(services, id, async (unit, approval) => {
    if (beforeCommit) await beforeCommit(unit, approval);
    const result = decide(approval, { ...input, actor }, unit.now, unit.newId('dec'), reviewRules);
    if (!result.ok) throw new SignoffError(result.code, result.message);
    await commitTransition(unit, {
      before: approval,
      after: result.approval,
      decision: result.decision,
      actor: result.decision.actor,
    });
    return result.approval;
  });
}

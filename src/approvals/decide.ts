import { type DecisionInput, decide } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import type { Approval, Decision } from '../core/model.js';
import { reviewRules } from '../reviewers/rule.js';
import type { Services } from '../services.js';
import type { UnitOfWork } from '../unit-of-work/context.js';
import { delegationsTo } from './delegation.js';
import { withApproval } from './transaction.js';
import { commitTransition } from './transition.js';

/** Work a decision does in its own transaction, before and after the verdict. */
export interface DecisionSteps {
  /** Runs first (a link marks itself used there, so a refused decision keeps it). */
  readonly beforeDecide?: (unit: UnitOfWork, approval: Approval) => Promise<void>;
  /** Runs once the verdict is written (a standing grant is made there, or not at all). */
  readonly afterDecide?: (
    unit: UnitOfWork,
    change: { before: Approval; after: Approval; decision: Decision },
  ) => Promise<void>;
}

/** Records one verdict on an approval in one transaction, with `steps` inside it. */
export async function decideApproval(
  services: Services,
  id: string,
  input: DecisionInput,
  steps: DecisionSteps = {},
): Promise<Approval> {
  // Every channel's actor is spelled the way approvers and requesters were: one person, one identity.
  const actor = { ...input.actor, id: normalizeIdentity(input.actor.id, services.config.identity) };
  return withApproval(services, id, async (unit, approval) => {
    if (steps.beforeDecide) await steps.beforeDecide(unit, approval);
    // Whose seats the actor may fill as a delegate: one indexed lookup.
    const delegations = await delegationsTo(unit.db, actor.id, unit.now);
    const result = decide(
      approval,
      { ...input, actor, delegations },
      unit.now,
      unit.newId('dec'),
      reviewRules,
    );
    if (!result.ok) throw new SignoffError(result.code, result.message);
    await commitTransition(unit, {
      before: approval,
      after: result.approval,
      decision: result.decision,
      actor: result.decision.actor,
    });
    if (steps.afterDecide)
      await steps.afterDecide(unit, { before: approval, after: result.approval, decision: result.decision });
    return result.approval;
  });
}

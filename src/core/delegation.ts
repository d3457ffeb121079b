import type { Actor, Approval, Gate } from './model.js';
import { isRequester, matchesApprover } from './stages.js';

/*
 * Delegation while away: "from A to B, my approvals go to C". While it lasts, C is asked in the
 * delegator's place and C's decision fills the delegator's seat, recorded as "C for D". Never
 * to the requester (self-approval holds through it), and never in a chain: only a delegation
 * of the person a gate names counts, so C's own delegation does not pass D's on.
 */

export interface Delegation {
  readonly id: string;
  readonly delegator: string;
  readonly delegate: string;
  readonly startsAt: Date;
  readonly endsAt: Date;
  /** Set when it was ended before its end. */
  readonly endedAt: Date | null;
}

/** Whether a delegation holds at `now`. */
export function isActive(delegation: Delegation, now: Date): boolean {
  const end =
    delegation.endedAt && delegation.endedAt < delegation.endsAt ? delegation.endedAt : delegation.endsAt;
  return delegation.startsAt <= now && now < end;
}

/**
 * Whose seat `actor` may fill as a delegate on this stage, if anyone's: a person a gate names
 * who delegated to the actor, has not decided and whose seat nobody filled for them. The
 * requester never decides, themselves or for someone.
 */
export function delegatedSeat(
  approval: Approval,
  stage: string,
  gates: readonly Gate[],
  actor: Actor,
  delegations: readonly Delegation[],
): string | undefined {
  if (isRequester(approval, { actor: actor.id, issuer: actor.issuer, subject: actor.subject }))
    return undefined;
  const taken = new Set(
    approval.decisions.filter((d) => d.stage === stage).flatMap((d) => [d.actor, d.onBehalfOf ?? d.actor]),
  );
  // Nor does anyone decide for the requester: their own seat is never filled.
  return delegations
    .filter((d) => d.delegate === actor.id && !taken.has(d.delegator))
    .filter((d) => !isRequester(approval, { actor: d.delegator }))
    .map((d) => d.delegator)
    .find((delegator) =>
      gates.some((gate) =>
        gate.approvers.some((entry) => matchesApprover(entry, { id: delegator, groups: [] })),
      ),
    );
}

// Delegation while away, as a person: declared, listed and ended by whom it concerns; used by
// the one decision path (a delegate fills the delegator's seat) and by the stage's mail.
import { hasUnrestrictedPermission, type Principal } from '../auth/principal.js';
import { formatDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import type { Services } from '../services.js';
import type { Db } from '../store/database.js';
import {
  endDelegation,
  findActiveDelegations,
  findDelegation,
  insertDelegation,
  listDelegationsOf,
  type StoredDelegation,
} from '../store/delegations.js';
import { actorOf } from './as-principal.js';

export type { StoredDelegation } from '../store/delegations.js';

function personOf(services: Services, principal: Principal): string {
  const actor = actorOf(principal);
  if (!actor) throw new SignoffError('forbidden', 'Delegating needs a person: this credential names nobody.');
  return normalizeIdentity(actor.id, services.config.identity);
}

/** "From `from` (now) to `until`, my approvals go to `to`": bounded by SIGNOFF_DELEGATION_MAX. */
export async function declareDelegation(
  services: Services,
  principal: Principal,
  request: { to: string; from?: string | undefined; until: string; reason?: string | undefined },
): Promise<StoredDelegation> {
  const delegator = personOf(services, principal);
  const delegate = normalizeIdentity(request.to, services.config.identity);
  const now = services.now();
  const startsAt = request.from ? new Date(request.from) : now;
  const endsAt = new Date(request.until);
  const max = services.config.delegationMaxMs;
  if (delegate === delegator) throw new SignoffError('invalid_input', 'A delegation goes to someone else.');
  if (Number.isNaN(startsAt.getTime()) || Number.isNaN(endsAt.getTime()))
    throw new SignoffError('invalid_input', 'from and until must be times like 2026-12-24T09:00:00Z.');
  if (endsAt <= startsAt || endsAt <= now)
    throw new SignoffError('invalid_input', 'until must be after from, and in the future.');
  if (endsAt.getTime() - startsAt.getTime() > max)
    throw new SignoffError(
      'invalid_input',
      `A delegation may last at most ${formatDuration(max)} (SIGNOFF_DELEGATION_MAX).`,
    );
  const delegation: StoredDelegation = {
    id: services.newId('dlg'),
    delegator,
    delegate,
    startsAt,
    endsAt,
    endedAt: null,
    reason: request.reason?.trim() || null,
    createdAt: now,
  };
  await insertDelegation(services.db, delegation);
  services.logger.info({ delegation: { ...delegation, reason: undefined } }, 'delegation declared');
  return delegation;
}

/** The delegations a person made or was given; every one for an admin. */
export async function listDelegationsAs(
  services: Services,
  principal: Principal,
): Promise<StoredDelegation[]> {
  if (hasUnrestrictedPermission(principal, 'admin')) return listDelegationsOf(services.db, null);
  return listDelegationsOf(services.db, personOf(services, principal));
}

/** Ends a delegation at once: its delegator, its delegate or an admin. */
export async function endDelegationAs(
  services: Services,
  principal: Principal,
  id: string,
): Promise<StoredDelegation> {
  const found = await findDelegation(services.db, id);
  const admin = hasUnrestrictedPermission(principal, 'admin');
  const person = admin ? null : personOf(services, principal);
  if (!found || (person !== null && person !== found.delegator && person !== found.delegate))
    throw new SignoffError('not_found', `No delegation ${id}.`);
  const now = services.now();
  if (!(await endDelegation(services.db, id, now)))
    throw new SignoffError('already_decided', `The delegation ${id} has already ended.`);
  services.logger.info({ delegation: { id, endedBy: person ?? 'admin' } }, 'delegation ended');
  return { ...found, endedAt: now };
}

/** Whose seats `delegate` may fill now. */
export function delegationsTo(db: Db, delegate: string, now: Date): Promise<StoredDelegation[]> {
  return findActiveDelegations(db, { delegate }, now);
}

/** Whom to ask instead of `person` now, if they delegated: the delegate, else the person. */
export async function askInsteadOf(db: Db, person: string, requester: string | null, now: Date) {
  // Never to or for the requester: self-approval holds through a delegation. The earliest made wins.
  if (person === requester) return { to: person, forApprover: undefined };
  const [delegation] = (await findActiveDelegations(db, { delegator: person }, now)).sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
  );
  if (!delegation || delegation.delegate === requester) return { to: person, forApprover: undefined };
  return { to: delegation.delegate, forApprover: person };
}

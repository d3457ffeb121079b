import type { Decision } from './model.js';

/** "C for D": how a delegate's decision names itself wherever people read it. */
export function seatLabel(decision: Pick<Decision, 'actor' | 'onBehalfOf'>): string {
  return decision.onBehalfOf ? `${decision.actor} for ${decision.onBehalfOf}` : decision.actor;
}

/** The identity whose seat a decision (or a seat label) fills: the delegator's, for "C for D". */
export function seatIdentity(label: string): string {
  const at = label.lastIndexOf(' for ');
  return at === -1 ? label : label.slice(at + ' for '.length);
}

import { describeWindow, isOpen } from './change-window.js';
import { isMailable, normalizeIdentity } from './identity.js';
import type {
  Actor,
  Approval,
  Decision,
  Gate,
  HumanStage,
  RuleStage,
  Stage,
  StageResult,
  TerminalStatus,
} from './model.js';
import { seatLabel } from './seat.js';

/** Whether `actor` is named by an approver entry (an address, a subject or `group:NAME`). */
export function matchesApprover(entry: string, actor: Actor): boolean {
  if (entry.startsWith('group:')) return actor.groups.includes(entry.slice('group:'.length));
  return normalizeIdentity(entry) === normalizeIdentity(actor.id);
}

/**
 * Whether someone is the requester: the same identity, or the same token subject that
 * asked (another token of one person, with or without its email, is still that person).
 */
export function isRequester(
  approval: Approval,
  someone: { readonly actor: string; readonly issuer?: string | null; readonly subject?: string | null },
): boolean {
  if (approval.requester !== null && someone.actor === approval.requester) return true;
  const asked = approval.requesterToken;
  return Boolean(asked && someone.issuer === asked.issuer && someone.subject === asked.subject);
}

export interface GateState {
  readonly name: string | undefined;
  readonly approvers: readonly string[];
  readonly required: number;
  /** Actors whose approvals count toward this gate. */
  readonly approvals: readonly string[];
  readonly passed: boolean;
}

/**
 * `waiting`: not reached yet; `pending`: waiting for a verdict now; `passed`; `rejected`;
 * `skipped`: handed over to the next stage, or never reached because the approval ended.
 */
export type StageStatus = 'waiting' | 'pending' | 'passed' | 'rejected' | 'skipped';

export interface StageState {
  readonly name: string;
  readonly type: Stage['type'];
  readonly status: StageStatus;
  readonly gates: readonly GateState[];
  readonly result: StageResult | undefined;
}

/** The stage's gates with the approvers escalation added to each. */
export function effectiveGates(approval: Approval, stage: HumanStage): Gate[] {
  const added = approval.escalations.filter((e) => e.stage === stage.name).flatMap((e) => e.approvers);
  if (added.length === 0) return [...stage.gates];
  return stage.gates.map((gate) => ({
    ...gate,
    approvers: [...new Set([...gate.approvers, ...added])],
  }));
}

/**
 * Assigns approving people to gate seats so that as many seats as possible are filled: a
 * maximum bipartite matching. One person fills at most one seat of one gate (separation of
 * duties), yet an early approver who fits two gates never blocks a later one who fits only one.
 */
function assignSeats(gates: readonly Gate[], approving: readonly Decision[]): string[][] {
  const seats: string[][] = gates.map(() => []);
  // A delegate's decision fills the delegator's seat, and reads "C for D".
  const fits = (decision: Decision, gate: Gate) =>
    gate.approvers.some((entry) =>
      matchesApprover(
        entry,
        decision.onBehalfOf
          ? { id: decision.onBehalfOf, groups: [] }
          : { id: decision.actor, groups: decision.groups },
      ),
    );
  const byActor = new Map(approving.map((d) => [seatLabel(d), d]));
  const place = (decision: Decision, tried: Set<number>): boolean => {
    for (const [index, gate] of gates.entries()) {
      if (tried.has(index) || !fits(decision, gate)) continue;
      tried.add(index);
      const seated = seats[index] as string[];
      if (seated.length < gate.required) {
        seated.push(seatLabel(decision));
        return true;
      }
      for (const [position, other] of seated.entries()) {
        const otherDecision = byActor.get(other) as Decision;
        if (place(otherDecision, tried)) {
          seated[position] = seatLabel(decision);
          return true;
        }
      }
    }
    return false;
  };
  for (const decision of approving) place(decision, new Set());
  return seats;
}

function countGates(approval: Approval, stage: HumanStage): GateState[] {
  const gates = effectiveGates(approval, stage);
  const approving = approval.decisions.filter(
    (d) =>
      d.stage === stage.name &&
      d.verdict === 'approve' &&
      // The requester never counts: neither deciding, nor decided for by a delegate.
      (approval.policy.allowSelfApproval ||
        (!isRequester(approval, d) &&
          (d.onBehalfOf === null || !isRequester(approval, { actor: d.onBehalfOf })))),
  );
  const seats = assignSeats(gates, approving);
  return gates.map((gate, index) => {
    const approvals = seats[index] ?? [];
    return {
      name: gate.name,
      approvers: gate.approvers,
      required: gate.required,
      approvals,
      passed: approvals.length >= gate.required,
    };
  });
}

const RESULT_STATUS = { approve: 'passed', pass: 'passed', reject: 'rejected', skip: 'skipped' } as const;

/** A reached stage's own status, from its decisions, gates and result. */
function ownStatus(approval: Approval, stage: Stage, gates: readonly GateState[], result?: StageResult) {
  if (
    stage.type === 'human' &&
    approval.decisions.some((d) => d.stage === stage.name && d.verdict === 'reject')
  )
    return 'rejected';
  if (result) return RESULT_STATUS[result.outcome];
  if (stage.type === 'human' && gates.every((g) => g.passed)) return 'passed';
  return 'pending';
}

/** Whether a result ends the whole approval with approval: only rules and AI say `approve` (timeouts pass). */
function approvesOutright(result: StageResult | undefined): boolean {
  return result?.outcome === 'approve';
}

/** Derives every stage's state from the approval's decisions, results and escalations. */
export function evaluateStages(approval: Approval): StageState[] {
  let reached = true;
  return approval.policy.stages.map((stage) => {
    const gates = stage.type === 'human' ? countGates(approval, stage) : [];
    const result = approval.results.find((r) => r.stage === stage.name);
    let status: StageStatus;
    if (reached) status = ownStatus(approval, stage, gates, result);
    else status = approval.status === 'pending' ? 'waiting' : 'skipped';
    reached = reached && (status === 'passed' || status === 'skipped') && !approvesOutright(result);
    return { name: stage.name, type: stage.type, status, gates, result };
  });
}

/** The stage that is waiting now, if any. */
export function currentStage(approval: Approval): Stage | undefined {
  if (approval.status !== 'pending') return undefined;
  const index = evaluateStages(approval).findIndex((s) => s.status === 'pending');
  return index === -1 ? undefined : approval.policy.stages[index];
}

/**
 * Why work queued for an approval (a mail, a post, a timer, a review) finds nothing left to do;
 * a type, not an interface, so a delivery may return it as its report.
 */
export type NotWaiting = { readonly skipped: 'approval is no longer pending' | 'stage is no longer waiting' };

/**
 * The approval, if work queued for it still has something to act on; otherwise why not. With
 * `now`, an approval past its expiry counts as settled: the sweeper just has not said so yet.
 */
export function pendingApproval(
  approval: Approval | undefined,
  now?: Date,
): { readonly approval: Approval } | NotWaiting {
  if (approval?.status !== 'pending' || (now !== undefined && now >= approval.expiresAt))
    return { skipped: 'approval is no longer pending' };
  return { approval };
}

/**
 * The approval and its stage `name`, if that stage (of `type`, when given) is the one waiting
 * now; otherwise why work queued for it is skipped. `now` as for `pendingApproval`.
 */
export function waitingStage<T extends Stage['type'] = Stage['type']>(
  approval: Approval | undefined,
  name: string,
  options: { readonly type?: T; readonly now?: Date } = {},
): { readonly approval: Approval; readonly stage: Extract<Stage, { type: T }> } | NotWaiting {
  const pending = pendingApproval(approval, options.now);
  if ('skipped' in pending) return pending;
  const stage = currentStage(pending.approval);
  if (stage?.name !== name || !isOfType(stage, options.type))
    return { skipped: 'stage is no longer waiting' };
  return { approval: pending.approval, stage };
}

function isOfType<T extends Stage['type']>(
  stage: Stage,
  type: T | undefined,
): stage is Extract<Stage, { type: T }> {
  return type === undefined || stage.type === type;
}

/** Identities (not groups) that should be told about the stage that waits now. */
export function approversToNotify(approval: Approval): string[] {
  const stage = currentStage(approval);
  if (stage?.type !== 'human') return [];
  const decided = new Set(approval.decisions.filter((d) => d.stage === stage.name).map((d) => d.actor));
  const people = effectiveGates(approval, stage)
    .flatMap((g) => g.approvers)
    .filter(isMailable);
  return [...new Set(people.map((p) => normalizeIdentity(p)))].filter((p) => !decided.has(p));
}

/** Evaluates a rule stage; rules run outside the core (they need an expression language). */
export type RuleReviewer = (stage: RuleStage, approval: Approval, now: Date) => StageResult;

export function finish(approval: Approval, status: TerminalStatus, now: Date, reason: string): Approval {
  return { ...approval, status, decidedAt: now, reason };
}

function rejectionReason(approval: Approval, state: StageState): string {
  const decision = approval.decisions.find((d) => d.stage === state.name && d.verdict === 'reject');
  if (decision) return `Rejected by ${decision.actor}${decision.comment ? `: ${decision.comment}` : ''}`;
  return state.result?.reason ?? `Rejected at stage "${state.name}"`;
}

function approvalReason(states: readonly StageState[]): string {
  // Only stages that people passed: a stage handed over or passed by its timeout approved nothing.
  const passedByPeople = states.filter((s) => s.status === 'passed' && !s.result);
  const people = [...new Set(passedByPeople.flatMap((s) => s.gates.flatMap((g) => g.approvals)))];
  if (people.length > 0) return `Approved by ${people.join(', ')}`;
  return states.findLast((s) => s.result)?.result?.reason ?? 'Approved';
}

/**
 * Moves an approval forward after something happened: evaluates rule stages that are
 * reached, and ends the approval when a stage rejects, a rule or AI approves outright, or
 * the last stage passes. A last stage that hands over with nobody after it rejects: an
 * approval is never granted by default.
 */
export function advance(approval: Approval, now: Date, reviewRule: RuleReviewer): Approval {
  const next = advanceStages(approval, now, reviewRule);
  return next.status === 'approved' && approval.status === 'pending' ? rejectOutsideWindow(next, now) : next;
}

/**
 * A policy whose change window says `outside: reject` turns an approval that ends approved
 * while its window is shut into a rejection that says why (break-glass does not come here).
 */
function rejectOutsideWindow(approval: Approval, now: Date): Approval {
  const window = approval.policy.window;
  if (window?.outside !== 'reject' || isOpen(window, now)) return approval;
  return finish(
    approval,
    'rejected',
    now,
    `Approved outside the policy's change window (${describeWindow(window)}), which rejects such changes: ask again when it is open`,
  );
}

function advanceStages(approval: Approval, now: Date, reviewRule: RuleReviewer): Approval {
  let current = approval;
  while (current.status === 'pending') {
    const states = evaluateStages(current);
    const rejected = states.find((s) => s.status === 'rejected');
    if (rejected) return finish(current, 'rejected', now, rejectionReason(current, rejected));
    const outright = states.find((s) => approvesOutright(s.result));
    if (outright?.result) return finish(current, 'approved', now, outright.result.reason);
    const index = states.findIndex((s) => s.status === 'pending');
    if (index === -1) {
      if (states.at(-1)?.status === 'passed') return finish(current, 'approved', now, approvalReason(states));
      const why = states.at(-1)?.result?.reason;
      return finish(
        current,
        'rejected',
        now,
        `No stage approved: the last stage handed over to nobody${why ? ` (${why})` : ''}`,
      );
    }
    const stage = current.policy.stages[index] as Stage;
    if (stage.type !== 'rule') return current;
    current = { ...current, results: [...current.results, reviewRule(stage, current, now)] };
  }
  return current;
}

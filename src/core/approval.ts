import { fail, type Result } from './errors.js';
import type {
  Actor,
  Approval,
  Callback,
  Channel,
  Decision,
  Gate,
  Policy,
  Stage,
  TerminalStatus,
  Verdict,
} from './model.js';

export interface NewApprovalInput {
  readonly title: string;
  readonly description?: string | null | undefined;
  readonly link?: string | null | undefined;
  readonly metadata?: Record<string, unknown> | undefined;
  readonly requester?: string | null | undefined;
  readonly policy: Policy;
  readonly callback?: Callback | null | undefined;
  readonly notify?: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly supersedeKey?: string | null | undefined;
}

/** Normalises an identity for comparison: emails are case-insensitive. */
export function normalizeIdentity(value: string): string {
  return value.trim().toLowerCase();
}

/** Builds a new pending approval. Time and id come from the caller. */
export function newApproval(input: NewApprovalInput, now: Date, id: string): Approval {
  return {
    id,
    status: 'pending',
    title: input.title,
    description: input.description ?? null,
    link: input.link ?? null,
    metadata: input.metadata ?? {},
    requester: input.requester ? normalizeIdentity(input.requester) : null,
    policy: input.policy,
    callback: input.callback ?? null,
    notify: input.notify ?? ['email'],
    createdAt: now,
    expiresAt: new Date(now.getTime() + input.timeoutMs),
    decidedAt: null,
    reason: null,
    supersedeKey: input.supersedeKey ?? null,
    decisions: [],
    version: 0,
  };
}

/** Whether `actor` is named by an approver entry (an identity or `group:NAME`). */
export function matchesApprover(entry: string, actor: Actor): boolean {
  if (entry.startsWith('group:')) return actor.groups.includes(entry.slice('group:'.length));
  return normalizeIdentity(entry) === normalizeIdentity(actor.id);
}

export interface GateState {
  readonly approvers: readonly string[];
  readonly required: number;
  /** Actors whose approvals count toward this gate. */
  readonly approvals: readonly string[];
  readonly passed: boolean;
}

export type StageStatus = 'waiting' | 'pending' | 'passed' | 'rejected';

export interface StageState {
  readonly name: string;
  readonly type: Stage['type'];
  readonly status: StageStatus;
  readonly gates: readonly GateState[];
}

/**
 * Counts approvals into gates. A person counts once per stage and in at most one gate;
 * the requester never counts unless the policy allows self-approval.
 */
function countGates(stage: Stage, decisions: readonly Decision[], policy: Policy, requester: string | null) {
  const counted = new Set<string>();
  const approving = decisions.filter(
    (d) =>
      d.stage === stage.name &&
      d.verdict === 'approve' &&
      (policy.allowSelfApproval || d.actor !== requester),
  );
  return stage.gates.map((gate: Gate): GateState => {
    const approvals: string[] = [];
    for (const d of approving) {
      if (approvals.length >= gate.required || counted.has(d.actor)) continue;
      if (!gate.approvers.some((entry) => matchesApprover(entry, { id: d.actor, groups: d.groups })))
        continue;
      counted.add(d.actor);
      approvals.push(d.actor);
    }
    return {
      approvers: gate.approvers,
      required: gate.required,
      approvals,
      passed: approvals.length >= gate.required,
    };
  });
}

/** Derives every stage's state from the approval's decisions. */
export function evaluateStages(approval: Approval): StageState[] {
  let earlierPassed = true;
  return approval.policy.stages.map((stage) => {
    const gates = countGates(stage, approval.decisions, approval.policy, approval.requester);
    const rejected = approval.decisions.some((d) => d.stage === stage.name && d.verdict === 'reject');
    let status: StageStatus;
    if (rejected) status = 'rejected';
    else if (gates.every((g) => g.passed)) status = 'passed';
    else status = earlierPassed ? 'pending' : 'waiting';
    earlierPassed = earlierPassed && status === 'passed';
    return { name: stage.name, type: stage.type, status, gates };
  });
}

/** The stage that is waiting for decisions now, if any. */
export function currentStage(approval: Approval): Stage | undefined {
  if (approval.status !== 'pending') return undefined;
  const states = evaluateStages(approval);
  const index = states.findIndex((s) => s.status === 'pending');
  return index === -1 ? undefined : approval.policy.stages[index];
}

/** Identities (not groups) that should be told about the stage that waits now. */
export function approversToNotify(approval: Approval): string[] {
  const stage = currentStage(approval);
  if (!stage) return [];
  const decided = new Set(approval.decisions.filter((d) => d.stage === stage.name).map((d) => d.actor));
  const people = stage.gates.flatMap((g) => g.approvers).filter((a) => !a.startsWith('group:'));
  return [...new Set(people.map(normalizeIdentity))].filter((p) => !decided.has(p));
}

export interface DecisionInput {
  readonly actor: Actor;
  readonly verdict: Verdict;
  readonly comment?: string | null | undefined;
  readonly via: Channel;
  readonly ip?: string | null | undefined;
  /** Only decide on this stage (a link is bound to one stage). */
  readonly stage?: string | undefined;
}

export type DecisionOutcome = 'recorded' | 'stage_passed' | 'approved' | 'rejected';

/**
 * Applies one person's verdict. Expected refusals (not pending, not an approver,
 * self-approval, a second vote) come back as failures with a code.
 */
export function decide(
  approval: Approval,
  input: DecisionInput,
  now: Date,
  decisionId: string,
): Result<{ approval: Approval; decision: Decision; outcome: DecisionOutcome }> {
  if (approval.status !== 'pending')
    return fail('already_decided', `This approval is already ${approval.status}.`);
  if (now >= approval.expiresAt) return fail('already_decided', 'This approval has timed out.');
  const stage = currentStage(approval);
  if (!stage) return fail('already_decided', 'No stage of this approval is waiting for a decision.');
  if (input.stage !== undefined && input.stage !== stage.name)
    return fail('already_decided', `Stage "${input.stage}" is no longer waiting for a decision.`);
  const actorId = normalizeIdentity(input.actor.id);
  const actor = { id: actorId, groups: input.actor.groups };
  if (!stage.gates.some((gate) => gate.approvers.some((entry) => matchesApprover(entry, actor))))
    return fail('not_approver', `${actorId} is not an approver of stage "${stage.name}".`);
  if (input.verdict === 'approve' && actorId === approval.requester && !approval.policy.allowSelfApproval)
    return fail('self_approval', 'The requester may not approve their own request.');
  if (approval.decisions.some((d) => d.stage === stage.name && d.actor === actorId))
    return fail('duplicate_decision', `${actorId} has already decided on stage "${stage.name}".`);

  const decision: Decision = {
    id: decisionId,
    stage: stage.name,
    actor: actorId,
    groups: input.actor.groups.filter((g) =>
      stage.gates.some((gate) => gate.approvers.includes(`group:${g}`)),
    ),
    verdict: input.verdict,
    comment: input.comment ?? null,
    via: input.via,
    at: now,
    ip: input.ip ?? null,
    issuer: input.actor.issuer ?? null,
    subject: input.actor.subject ?? null,
  };
  const next: Approval = { ...approval, decisions: [...approval.decisions, decision] };
  const states = evaluateStages(next);
  const stageState = states.find((s) => s.name === stage.name);
  if (stageState?.status === 'rejected') {
    const reason = `Rejected by ${actorId}${decision.comment ? `: ${decision.comment}` : ''}`;
    return { ok: true, approval: finish(next, 'rejected', now, reason), decision, outcome: 'rejected' };
  }
  if (states.every((s) => s.status === 'passed')) {
    const approvers = states.flatMap((s) => s.gates.flatMap((g) => g.approvals));
    const reason = `Approved by ${[...new Set(approvers)].join(', ')}`;
    return { ok: true, approval: finish(next, 'approved', now, reason), decision, outcome: 'approved' };
  }
  return {
    ok: true,
    approval: next,
    decision,
    outcome: stageState?.status === 'passed' ? 'stage_passed' : 'recorded',
  };
}

function finish(approval: Approval, status: TerminalStatus, now: Date, reason: string): Approval {
  return { ...approval, status, decidedAt: now, reason };
}

/** Times out a pending approval whose expiry has passed. */
export function expire(approval: Approval, now: Date): Result<{ approval: Approval }> {
  if (approval.status !== 'pending')
    return fail('already_decided', `This approval is already ${approval.status}.`);
  if (now < approval.expiresAt) return fail('invalid_input', 'This approval has not timed out yet.');
  return { ok: true, approval: finish(approval, 'expired', now, 'Timed out without a decision') };
}

/** Cancels a pending approval on behalf of `by`. */
export function cancel(
  approval: Approval,
  now: Date,
  by: string,
  reason?: string | null,
): Result<{ approval: Approval }> {
  if (approval.status !== 'pending')
    return fail('already_decided', `This approval is already ${approval.status}.`);
  const why = `Cancelled by ${by}${reason ? `: ${reason}` : ''}`;
  return { ok: true, approval: finish(approval, 'cancelled', now, why) };
}

/** The earlier of a fresh link's lifetime and the approval's own expiry. */
export function linkExpiry(approval: Approval, now: Date, linkTtlMs: number): Date {
  return new Date(Math.min(now.getTime() + linkTtlMs, approval.expiresAt.getTime()));
}

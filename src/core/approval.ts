import { formatUtc } from './approval-facts.js';
import { type Delegation, delegatedSeat } from './delegation.js';
import { formatDuration } from './duration.js';
import { fail, type Result } from './errors.js';
import { normalizeIdentity } from './identity.js';
import { checkInputs, inputsFromForm, inputsMessage } from './inputs.js';
import type {
  Actor,
  Approval,
  BoundAction,
  Callback,
  Channel,
  Decision,
  Gate,
  HumanStage,
  Policy,
  Verdict,
} from './model.js';
import {
  advance,
  currentStage,
  effectiveGates,
  finish,
  isRequester,
  matchesApprover,
  type RuleReviewer,
} from './stages.js';

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
  readonly owner?: string | null | undefined;
  /** The issuer and subject of the token that asked, when a token did. */
  readonly requesterToken?: { readonly issuer: string; readonly subject: string } | null | undefined;
  readonly action?: BoundAction | null | undefined;
  readonly policyVersion?: string | null | undefined;
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
    owner: input.owner ?? null,
    requesterToken: input.requesterToken ?? null,
    action: input.action ?? null,
    policyVersion: input.policyVersion ?? null,
    decisions: [],
    results: [],
    escalations: [],
    version: 0,
  };
}

export interface DecisionInput {
  readonly actor: Actor;
  readonly verdict: Verdict;
  readonly comment?: string | null | undefined;
  readonly via: Channel;
  readonly ip?: string | null | undefined;
  /** Only decide on this stage (a link is bound to one stage). */
  readonly stage?: string | undefined;
  /** What the approver filled in, for a stage that asks for inputs. */
  readonly inputs?: Readonly<Record<string, unknown>> | undefined;
  /** The same from a form (the page, a link, Slack): text, typed by the stage's schema here. */
  readonly formInputs?: Readonly<Record<string, string>> | undefined;
  /** Delegations to the actor that hold now: whose seats they may fill ("C for D"). */
  readonly delegations?: readonly Delegation[] | undefined;
}

/** When the stage started waiting: the approval's creation, or the end of the stage before it. */
function stageStartedAt(approval: Approval, stage: string): Date {
  const index = approval.policy.stages.findIndex((s) => s.name === stage);
  const earlier = new Set(approval.policy.stages.slice(0, Math.max(0, index)).map((s) => s.name));
  const ends = [
    ...approval.decisions.filter((d) => earlier.has(d.stage)).map((d) => d.at.getTime()),
    ...approval.results.filter((r) => earlier.has(r.stage)).map((r) => r.at.getTime()),
  ];
  return new Date(Math.max(approval.createdAt.getTime(), ...ends));
}

/** The policy's minimum reading time: an approve before it is refused, saying from when it is not. */
function tooEarly(approval: Approval, stage: string, now: Date): ReturnType<typeof fail> | undefined {
  const minimum = approval.policy.minReviewTimeMs;
  if (!minimum) return undefined;
  const from = new Date(stageStartedAt(approval, stage).getTime() + minimum);
  if (now >= from) return undefined;
  return fail(
    'too_early',
    `This approval can be approved from ${formatUtc(from)} (in ${formatDuration(from.getTime() - now.getTime())}): its policy asks approvers to take ${formatDuration(minimum)} to read it.`,
  );
}

/** What the policy says of this verdict from this person now: a reject's comment, self-approval, reading time. */
function verdictRefusal(
  approval: Approval,
  stage: string,
  input: DecisionInput,
  who: { actor: string; issuer?: string | undefined; subject?: string | undefined },
  now: Date,
): ReturnType<typeof fail> | undefined {
  if (input.verdict === 'reject')
    return approval.policy.requireRejectComment === true && !input.comment?.trim()
      ? fail('invalid_input', 'This approval asks for a comment saying why when rejecting.')
      : undefined;
  if (isRequester(approval, who) && !approval.policy.allowSelfApproval)
    return fail('self_approval', 'The requester may not approve their own request.');
  return tooEarly(approval, stage, now);
}

/**
 * Whose seat the actor fills: their own (null) when a gate names them, else the seat of someone
 * who delegated to them; undefined when neither.
 */
function seatOf(
  approval: Approval,
  stage: string,
  gates: readonly Gate[],
  actor: Actor,
  delegations: readonly Delegation[] | undefined,
): string | null | undefined {
  if (gates.some((gate) => gate.approvers.some((entry) => matchesApprover(entry, actor)))) return null;
  return delegatedSeat(approval, stage, gates, actor, delegations ?? []);
}

/** What the approver filled in: typed over the API, text from a form (typed here by the schema). */
function givenInputs(stage: HumanStage, input: DecisionInput): Readonly<Record<string, unknown>> | undefined {
  return input.formInputs ? inputsFromForm(stage.inputs, input.formInputs) : input.inputs;
}

/** One person counts once on a stage, whichever of their tokens (or spellings) they come back with, or a delegate for them. */
function hasDecided(approval: Approval, stage: string, actorId: string, actor: Actor): boolean {
  const sameToken = (d: Decision) =>
    actor.issuer !== undefined &&
    actor.subject !== undefined &&
    d.issuer === actor.issuer &&
    d.subject === actor.subject;
  // A delegate who decided for them took their seat too.
  const theirs = (d: Decision) => d.actor === actorId || d.onBehalfOf === actorId || sameToken(d);
  return approval.decisions.some((d) => d.stage === stage && theirs(d));
}

/**
 * Applies one person's verdict, then moves the approval on (rule stages that follow are
 * evaluated at once). Expected refusals (not pending, not an approver, self-approval, a
 * second vote) come back as failures with a code.
 */
export function decide(
  approval: Approval,
  input: DecisionInput,
  now: Date,
  decisionId: string,
  reviewRule: RuleReviewer,
): Result<{ approval: Approval; decision: Decision }> {
  if (approval.status !== 'pending')
    return fail('already_decided', `This approval is already ${approval.status}.`);
  if (now >= approval.expiresAt) return fail('already_decided', 'This approval has timed out.');
  const stage = currentStage(approval);
  if (!stage) return fail('already_decided', 'No stage of this approval is waiting for a decision.');
  if (input.stage !== undefined && input.stage !== stage.name)
    return fail('already_decided', `Stage "${input.stage}" is no longer waiting for a decision.`);
  if (stage.type !== 'human')
    return fail(
      'already_decided',
      `Stage "${stage.name}" is decided by ${stage.type === 'ai' ? 'an AI reviewer' : 'rules'}, not by people.`,
    );
  const gates = effectiveGates(approval, stage);
  const actorId = normalizeIdentity(input.actor.id);
  const who = { actor: actorId, issuer: input.actor.issuer, subject: input.actor.subject };
  const onBehalfOf = seatOf(approval, stage.name, gates, { ...input.actor, id: actorId }, input.delegations);
  if (onBehalfOf === undefined)
    return fail('not_approver', `${actorId} is not an approver of stage "${stage.name}".`);
  const refused = verdictRefusal(approval, stage.name, input, who, now);
  if (refused) return refused;
  const inputs = checkInputs(stage.inputs, givenInputs(stage, input), input.verdict);
  if (!inputs.ok) return fail('invalid_input', inputsMessage(inputs.problems));
  if (hasDecided(approval, stage.name, actorId, input.actor))
    return fail('duplicate_decision', `${actorId} has already decided on stage "${stage.name}".`);

  const decision: Decision = {
    id: decisionId,
    stage: stage.name,
    actor: actorId,
    groups: input.actor.groups.filter((g) => gates.some((gate) => gate.approvers.includes(`group:${g}`))),
    verdict: input.verdict,
    comment: input.comment ?? null,
    via: input.via,
    at: now,
    ip: input.ip ?? null,
    issuer: input.actor.issuer ?? null,
    subject: input.actor.subject ?? null,
    inputs: inputs.values,
    onBehalfOf,
  };
  const next = advance({ ...approval, decisions: [...approval.decisions, decision] }, now, reviewRule);
  return { ok: true, approval: next, decision };
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

/** A fresh link works until the approval's deadline, or for `maxTtlMs` when that ends sooner. */
export function linkExpiry(approval: Approval, now: Date, maxTtlMs: number | undefined): Date {
  const deadline = approval.expiresAt.getTime();
  return new Date(maxTtlMs === undefined ? deadline : Math.min(now.getTime() + maxTtlMs, deadline));
}

import type { ChainedEvent } from './audit-chain.js';
import type { Approval, Verdict } from './model.js';
import { isRequester } from './stages.js';

/**
 * The facts of an approval an auditor asks for, read from the approval and its audit chain:
 * who decided what and when, whether a decider was the requester, when the waiting workflow
 * was resumed. Pure: the evidence pack (src/governance) renders them.
 */

/** Who made a decision: a person, or signoff on a policy's behalf. */
export type DeciderKind = 'person' | 'rule' | 'ai' | 'timeout';

/** One decision, by a person or by a rule, an AI or a stage timeout, as the evidence reads it. */
export interface DecisionRecord {
  readonly stage: string;
  /** The person, or `rule`, `ai:MODEL`, `timeout`. */
  readonly actor: string;
  readonly kind: DeciderKind;
  readonly verdict: Verdict;
  readonly at: Date;
  readonly comment: string | null;
  readonly via: string;
  /** The token that proved the person, when one did. */
  readonly issuer: string | null;
  readonly subject: string | null;
  /** Set when a delegate decided: whose seat the decision filled. */
  readonly onBehalfOf: string | null;
}

/** Every decision of an approval in the order it was made, automated ones as the API shows them. */
export function decisionsOf(approval: Approval): DecisionRecord[] {
  const people = approval.decisions.map(
    (d): DecisionRecord => ({
      stage: d.stage,
      actor: d.actor,
      kind: 'person',
      verdict: d.verdict,
      at: d.at,
      comment: d.comment,
      via: d.via,
      issuer: d.issuer,
      subject: d.subject,
      onBehalfOf: d.onBehalfOf,
    }),
  );
  // A stage a rule or an AI skipped decided nothing; one it passed counts as its approval.
  const automated = approval.results.flatMap((r): DecisionRecord[] =>
    r.outcome === 'skip'
      ? []
      : [
          {
            stage: r.stage,
            actor: r.via === 'ai' ? `ai:${r.review?.model ?? 'unknown'}` : r.via,
            kind: r.via,
            verdict: r.outcome === 'reject' ? 'reject' : 'approve',
            at: r.at,
            comment: r.reason,
            via: r.via,
            issuer: null,
            subject: null,
            onBehalfOf: null,
          },
        ],
  );
  return [...people, ...automated].sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The event on the chain that records a decision: a person's verdict, or a stage's result. */
export function decisionEventOf(
  events: readonly ChainedEvent[],
  decision: DecisionRecord,
): ChainedEvent | undefined {
  const type = decision.kind === 'person' ? 'approval.decision' : 'stage.result';
  // A person decides a stage once, and a stage ends once: stage and actor name the event.
  return events.find(
    (e) =>
      e.type === type &&
      e.actor === (decision.kind === 'person' ? decision.actor : decision.kind) &&
      (e.data as { stage?: unknown } | null)?.stage === decision.stage,
  );
}

/**
 * The delivery that told the waiting workflow the outcome: a resumption (CodePipeline, Step
 * Functions, CloudFormation, GitHub) or a webhook's `approval.decided`. Earlier webhook events
 * (`approval.created`, `approval.stage_passed`) resume nothing.
 */
export function resumeEventOf(events: readonly ChainedEvent[]): ChainedEvent | undefined {
  return events.find((e) => {
    if (e.type !== 'callback.delivered') return false;
    const told = (e.data as { type?: unknown } | null)?.type;
    return told === undefined || told === 'approval.decided';
  });
}

/** Whether a decider was the requester, compared as deciding compares them. */
export interface Separation {
  /** The requester and the token that asked, as recorded at create. */
  readonly requester: string | null;
  readonly requesterToken: string | null;
  readonly decider: string;
  readonly deciderToken: string | null;
  /**
   * True when the decider is the requester (the same identity, or the same token subject);
   * false when they differ; null when it is not a person or the approval names no requester.
   */
  readonly same: boolean | null;
}

const tokenText = (issuer: string | null | undefined, subject: string | null | undefined) =>
  issuer && subject ? `${issuer} ${subject}` : null;

/** Both identities of a decision, and whether they are one person, by the rule deciding enforced. */
export function separationOf(approval: Approval, decision: DecisionRecord): Separation {
  const asked = approval.requesterToken;
  const known = approval.requester !== null || asked !== null;
  return {
    requester: approval.requester,
    requesterToken: tokenText(asked?.issuer, asked?.subject),
    decider: decision.actor,
    deciderToken: tokenText(decision.issuer, decision.subject),
    // A delegate's decision for the requester is the requester's own.
    same:
      decision.kind === 'person' && known
        ? isRequester(approval, decision) ||
          (decision.onBehalfOf !== null && isRequester(approval, { actor: decision.onBehalfOf }))
        : null,
  };
}

/** The policy's version as recorded, and whether the record holds up. */
export interface PolicyInForce {
  readonly name: string | null;
  readonly version: string | null;
  /** `named`: from the policies file; `inline`: spelled out by the request (or a route's approvers). */
  readonly source: 'named' | 'inline';
  /** For a named policy, when its version was first loaded (the change log); null for inline. */
  readonly firstSeenAt: Date | null;
  /**
   * Named: the version is in the change log under the policy's name. Inline: it is the hash
   * of the approval's own policy. Null when no version was recorded (before migration 0016).
   */
  readonly verified: boolean | null;
  /** The approval.created event records the same version; null when that event records none. */
  readonly onChain: boolean | null;
}

/** Checks an approval's recorded version against the change log (named) or its own policy (inline). */
export function policyInForce(
  approval: Approval,
  events: readonly ChainedEvent[],
  lookup: {
    /** When a named policy's version was first seen, if the change log has it. */
    readonly firstSeen: (name: string, version: string) => Date | undefined;
    /** The version an inline policy hashes to. */
    readonly inlineVersion: (approval: Approval) => string;
  },
): PolicyInForce {
  const { policyVersion: version } = approval;
  const name = approval.policy.name ?? null;
  const created = events.find((e) => e.type === 'approval.created');
  const chained = (created?.data as { policyVersion?: unknown } | null)?.policyVersion;
  const onChain = typeof chained === 'string' ? chained === version : null;
  if (name === null) {
    const verified = version === null ? null : lookup.inlineVersion(approval) === version;
    return { name, version, source: 'inline', firstSeenAt: null, verified, onChain };
  }
  const firstSeenAt = version === null ? undefined : lookup.firstSeen(name, version);
  const verified = version === null ? null : firstSeenAt !== undefined;
  return { name, version, source: 'named', firstSeenAt: firstSeenAt ?? null, verified, onChain };
}

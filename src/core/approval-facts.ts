import type { AuditEvent } from './audit.js';
import { formatDuration } from './duration.js';
import type { Callback } from './model.js';
import { seatIdentity } from './seat.js';
import { matchesApprover, type StageStatus } from './stages.js';

/*
 * One description of an approval for people. The page, the decision-link page, the inbox card,
 * the mail, Slack and the CLI render these sentences, so they say the same thing in the same
 * words: gates by name, "1 of 2 approvals", who is still asked, a deadline with its zone.
 * The input is structural so the CLI can describe the API's JSON as the server describes the
 * approval itself.
 */

export interface GateLike {
  readonly name?: string | null | undefined;
  readonly approvers: readonly string[];
  readonly required: number;
  readonly approvals: readonly string[];
}

export interface StageLike {
  readonly name: string;
  readonly type: 'human' | 'rule' | 'ai';
  readonly status: StageStatus;
  readonly gates: readonly GateLike[];
}

/** One gate as people read it. */
export interface GateFacts {
  /** `Gate "tech"`; `Gate 2` for an unnamed gate among several; `Gate` for a stage's only one. */
  readonly label: string;
  /** "1 of 2 approvals": approvals so far of those the gate needs. */
  readonly count: string;
  readonly approvedBy: readonly string[];
  /** The gate's approvers who have not approved, while it can still take approvals. */
  readonly stillAsked: readonly string[];
  /** Whether the stage is not reached yet, so `stillAsked` will be asked later. */
  readonly later: boolean;
  /** `Gate "tech": 1 of 2 approvals · approved by a@x · still asked: b@x, group:ops` */
  readonly line: string;
}

/** One stage as people read it. */
export interface StageFacts {
  readonly name: string;
  /** `Stage "review" (1 of 2)`, or `Stage "review"` when it is the only one. */
  readonly heading: string;
  /** "waiting for a decision", "not reached yet", "passed"… */
  readonly state: string;
  readonly gates: readonly GateFacts[];
}

const STAGE_STATES: Record<StageStatus, string> = {
  waiting: 'not reached yet',
  pending: 'waiting for a decision',
  passed: 'passed',
  rejected: 'rejected',
  skipped: 'skipped',
};

/**
 * Who asked, for people. The admin credential's identity is the bare word `admin`, which reads
 * like a person's name: it is "the admin key". No identity at all is "an automation".
 */
export function requesterWords(requester: string | null): string {
  if (requester === null) return 'an automation';
  return requester === 'admin' ? 'the admin key' : requester;
}

/** `Gate "tech"`, `Gate 2`, or `Gate`: the one way every surface names a gate. */
export function gateLabel(name: string | null | undefined, index: number, count: number): string {
  if (name) return `Gate "${name}"`;
  return count > 1 ? `Gate ${index + 1}` : 'Gate';
}

/** "1 of 2 approvals", "0 of 1 approval". */
export function approvalCount(approved: number, required: number): string {
  return `${approved} of ${required} approval${required === 1 ? '' : 's'}`;
}

function describeGate(
  gate: GateLike,
  index: number,
  count: number,
  stage: StageStatus,
  ended: boolean,
): GateFacts {
  const open =
    !ended && (stage === 'pending' || stage === 'waiting') && gate.approvals.length < gate.required;
  // A group entry stays asked: who belongs to it is the identity provider's to say.
  const stillAsked = open
    ? gate.approvers.filter(
        (entry) =>
          !gate.approvals.some((seat) => matchesApprover(entry, { id: seatIdentity(seat), groups: [] })),
      )
    : [];
  const label = gateLabel(gate.name, index, count);
  const parts = [`${label}: ${approvalCount(gate.approvals.length, gate.required)}`];
  if (gate.approvals.length > 0) parts.push(`approved by ${gate.approvals.join(', ')}`);
  if (stillAsked.length > 0)
    parts.push(`${stage === 'waiting' ? 'will ask' : 'still asked'}: ${stillAsked.join(', ')}`);
  return {
    label,
    count: approvalCount(gate.approvals.length, gate.required),
    approvedBy: [...gate.approvals],
    stillAsked,
    later: stage === 'waiting',
    line: parts.join(' · '),
  };
}

/** Every stage with its gates, as people read them; `ended` when the approval no longer waits. */
export function describeStages(stages: readonly StageLike[], ended: boolean): StageFacts[] {
  return stages.map((stage, index) => {
    const state =
      stage.type !== 'human' && stage.status === 'pending'
        ? `with ${stage.type === 'ai' ? 'the AI reviewer' : 'the rules'}`
        : ended && stage.status === 'pending'
          ? 'not decided'
          : STAGE_STATES[stage.status];
    return {
      name: stage.name,
      heading:
        stages.length > 1
          ? `Stage "${stage.name}" (${index + 1} of ${stages.length})`
          : `Stage "${stage.name}"`,
      state,
      gates: stage.gates.map((gate, i) => describeGate(gate, i, stage.gates.length, stage.status, ended)),
    };
  });
}

/** `Stage "review" (1 of 2), waiting for a decision` and one indented line per gate. */
export function stageLines(stage: StageFacts): string[] {
  return [`${stage.heading}, ${stage.state}`, ...stage.gates.map((gate) => `  ${gate.line}`)];
}

/** A stage on one line: `Stage "review" (1 of 2), waiting for a decision — Gate "tech": …; Gate "product": …` */
export function stageSentence(stage: StageFacts): string {
  const gates = stage.gates.map((gate) => gate.line).join('; ');
  return `${stage.heading}, ${stage.state}${gates ? ` — ${gates}` : ''}`;
}

/** The gates of `stage` that `reader` is asked in: where their vote counts. */
export function gatesOfReader(stage: StageFacts | undefined, reader: string): string[] {
  if (!stage) return [];
  return stage.gates
    .filter((gate) => gate.stillAsked.some((entry) => matchesApprover(entry, { id: reader, groups: [] })))
    .map((gate) => gate.label);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Wed 25 Nov 2026, 17:05 UTC": a server cannot know its reader's zone, so it says UTC. */
export function formatUtc(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[at.getUTCDay()]} ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}, ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;
}

/** "Wed 25 Nov 2026, 17:05 UTC (in 2d)". */
export function deadlineText(expiresAt: Date, now: Date): string {
  return `${formatUtc(expiresAt)} (in ${formatDuration(expiresAt.getTime() - now.getTime())})`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What waits on the decision, named: "CodePipeline deploy › Approve › Gate", "ci.example (webhook)". */
function waiterName(callback: Callback): string {
  switch (callback.type) {
    case 'webhook':
      return `${hostOf(callback.url)} (webhook)`;
    case 'codepipeline':
      return `CodePipeline ${callback.pipelineName} › ${callback.stageName} › ${callback.actionName}`;
    case 'stepfunctions':
      return 'the waiting Step Functions task';
    case 'cloudformation':
      return 'the waiting CloudFormation stack';
    case 'github':
      return `GitHub's deployment protection rule of ${callback.repository} › ${callback.environment}`;
  }
}

/** What waits on an approval: its callback, the agent that bound an action, and live long polls. */
export interface Waiters {
  readonly callback: Callback | null;
  /** Whether an agent asked for exactly one action and waits to take it. */
  readonly agent: boolean;
  /**
   * How many `signoff wait` calls or long polls wait on it now, as far as this server sees;
   * undefined where that cannot be known (a mail or a Slack message is written ahead of time).
   */
  readonly polling?: number | undefined;
}

/** What deciding sets in motion, before it happens, naming what waits. */
export function whatDecidingDoes(waiters: Waiters): string {
  if (waiters.callback) {
    const verb = waiters.callback.type === 'webhook' ? 'Tells' : 'Resumes';
    return `${verb} ${waiterName(waiters.callback)}.`;
  }
  if (waiters.agent) return 'Answers the agent that asked: it waits to take exactly this action.';
  if (waiters.polling === undefined)
    return 'Records the decision; signoff resumes nothing itself, and whoever asked reads it (signoff wait, a long poll, the API).';
  if (waiters.polling > 0)
    return `Answers the ${waiters.polling === 1 ? 'signoff wait (or long poll) that waits' : `${waiters.polling} signoff waits (or long polls) that wait`} on it now.`;
  return 'Nothing waits on it now: the decision is recorded, and whoever asked reads it (signoff wait, the API).';
}

/** What deciding did, once decided: whether the waiting workflow has been told, from the trail. */
export function whatDecidingDid(waiters: Waiters, events: readonly AuditEvent[]): string {
  if (!waiters.callback)
    return waiters.agent
      ? 'The agent that asked reads the outcome when it next looks.'
      : 'The outcome is recorded for whoever asks (signoff wait, the API).';
  const name = waiterName(waiters.callback);
  const last = events.findLast((e) => e.type.startsWith('callback.'));
  if (!last) return `Telling ${name} now.`;
  const error = typeof last.data.error === 'string' ? `: ${last.data.error}` : '';
  if (last.type === 'callback.delivered') return `Told ${name} at ${formatUtc(last.at)}.`;
  if (last.type === 'callback.dead_lettered') return `Gave up telling ${name}${error}.`;
  return `Could not tell ${name} yet${error}; signoff tries again.`;
}

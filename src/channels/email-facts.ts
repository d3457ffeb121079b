import { formatDuration } from '../core/duration.js';
import { namesOnePerson, normalizeIdentity } from '../core/identity.js';
import type { Approval } from '../core/model.js';
import { adviceFor } from '../core/review.js';
import { evaluateStages, matchesApprover } from '../core/stages.js';
import { actionText, metadataText, safeHref } from '../html.js';

export interface ApprovalMailInput {
  readonly approval: Approval;
  /** The stage the reader is asked to decide. */
  readonly stage: string;
  readonly to: string;
  readonly decisionUrl: string;
  readonly linkExpiresAt: Date;
  readonly now: Date;
  readonly renewed: boolean;
  readonly reminder?: boolean | undefined;
  /** How this signoff names itself (SIGNOFF_INSTANCE_NAME). */
  readonly instanceName: string;
}

/** One gate of the stage as the reader sees it. */
export interface MailGate {
  /** "Gate "leads"", or "Gate 2" when a stage has several unnamed gates; null for a stage's only gate. */
  readonly label: string | null;
  /** "2 of 3 needed", or "2 needed" when a group makes the number of people unknown. */
  readonly needed: string;
  /** Everyone the gate names, with the reader shown as "you". */
  readonly asked: readonly string[];
  readonly approvedBy: readonly string[];
}

/** Everything an approval mail says, in both its parts. */
export interface MailFacts {
  readonly subject: string;
  readonly requester: string;
  readonly title: string;
  readonly description: string | null;
  readonly link: string | null;
  readonly href: string | null;
  readonly metadata: string;
  /** The action an agent asks to take and its hash; empty when none was named. */
  readonly action: string;
  readonly advice: readonly string[];
  /** `prod` (stage 2 of 3) */
  readonly stage: string;
  readonly gates: readonly MailGate[];
  /** When the request itself times out, in UTC, and how far away that is. */
  readonly deadline: string;
  /** How long the link works: "This link works once, until the request's deadline." */
  readonly linkLifetime: string;
  readonly reviewUrl: string;
  readonly approveUrl: string;
  readonly rejectUrl: string;
  readonly instanceName: string;
  /** Why the reader got this mail, finishing "You got this mail because …". */
  readonly reason: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Wed 25 Nov 2026, 17:05 UTC": a mail cannot know its reader's time zone, so it says UTC. */
export function formatUtc(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${WEEKDAYS[at.getUTCDay()]} ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}, ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;
}

/** The decision page's URL with a verdict preselected; the page still asks before deciding. */
function withVerdict(decisionUrl: string, verdict: 'approve' | 'reject'): string {
  const url = new URL(decisionUrl);
  url.searchParams.set('verdict', verdict);
  return url.href;
}

function describeGates(approval: Approval, stageName: string, reader: string): MailGate[] {
  const state = evaluateStages(approval).find((s) => s.name === stageName);
  const gates = state?.gates ?? [];
  const isReader = (entry: string) => matchesApprover(entry, { id: reader, groups: [] });
  return gates.map((gate, index) => {
    const people = gate.approvers.every(namesOnePerson) ? ` of ${gate.approvers.length}` : '';
    const label = gate.name ? `Gate "${gate.name}"` : gates.length > 1 ? `Gate ${index + 1}` : null;
    return {
      label,
      needed: `${gate.required}${people} needed`,
      // The reader first, once, however many of the gate's entries name them.
      asked: [
        ...(gate.approvers.some(isReader) ? ['you'] : []),
        ...gate.approvers.filter((a) => !isReader(a)),
      ],
      approvedBy: gate.approvals,
    };
  });
}

/** Why this reader got this mail; the most specific reason wins. */
function reasonFor(input: ApprovalMailInput): string {
  const { approval, stage } = input;
  const reader = normalizeIdentity(input.to);
  const escalated = approval.escalations.some(
    (e) => e.stage === stage && e.approvers.some((a) => normalizeIdentity(a) === reader),
  );
  if (input.renewed)
    return `a fresh link was asked for on the page of your earlier link to stage "${stage}" of this request`;
  if (input.reminder)
    return `you are an approver of stage "${stage}" of this request and have not decided yet`;
  if (escalated) return `nobody decided stage "${stage}" of this request in time, so it was escalated to you`;
  return `you are an approver of stage "${stage}" of this request`;
}

/** What the mail promises about its link: until the deadline, or (capped by SIGNOFF_LINK_TTL) less. */
function linkLifetime({ approval, linkExpiresAt, now }: ApprovalMailInput): string {
  if (linkExpiresAt.getTime() >= approval.expiresAt.getTime())
    return "This link works once, until the request's deadline.";
  const left = formatDuration(linkExpiresAt.getTime() - now.getTime());
  return `This link works once, for ${left}, until ${formatUtc(linkExpiresAt)}; after that, its page can mail you a fresh one while the request still waits for you.`;
}

/** The facts of one approval mail, from the approval as it stands. */
export function approvalMailFacts(input: ApprovalMailInput): MailFacts {
  const { approval, now } = input;
  const prefix = input.reminder ? 'Reminder: ' : input.renewed ? 'New link: ' : '';
  const position = approval.policy.stages.findIndex((s) => s.name === input.stage) + 1;
  const stageCount = approval.policy.stages.length;
  return {
    subject: `${prefix}Approval needed: ${approval.title}`.slice(0, 200),
    requester: approval.requester ?? 'an automation',
    title: approval.title,
    description: approval.description,
    link: approval.link,
    href: safeHref(approval.link),
    metadata: metadataText(approval.metadata),
    action: actionText(approval.action),
    advice: adviceFor(approval),
    stage: stageCount > 1 ? `"${input.stage}" (stage ${position} of ${stageCount})` : `"${input.stage}"`,
    gates: describeGates(approval, input.stage, input.to),
    deadline: `${formatUtc(approval.expiresAt)} (in ${formatDuration(approval.expiresAt.getTime() - now.getTime())})`,
    linkLifetime: linkLifetime(input),
    reviewUrl: input.decisionUrl,
    approveUrl: withVerdict(input.decisionUrl, 'approve'),
    rejectUrl: withVerdict(input.decisionUrl, 'reject'),
    instanceName: input.instanceName,
    reason: reasonFor(input),
  };
}

/** One line per gate: "Gate "leads": 2 of 3 needed · asked: you, pm@example.com · approved so far: …". */
export function gateLine(gate: MailGate): string {
  const approved = gate.approvedBy.length > 0 ? ` · approved so far: ${gate.approvedBy.join(', ')}` : '';
  return `${gate.label ? `${gate.label}: ` : ''}${gate.needed} · asked: ${gate.asked.join(', ')}${approved}`;
}

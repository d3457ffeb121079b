import {
  deadlineText,
  describeStages,
  formatUtc,
  gatesOfReader,
  requesterWords,
  type StageFacts,
} from '../core/approval-facts.js';
import { formatDuration } from '../core/duration.js';
import { normalizeIdentity } from '../core/identity.js';
import type { Approval } from '../core/model.js';
import { adviceFor } from '../core/review.js';
import { evaluateStages } from '../core/stages.js';
import { actionText, metadataRows, metadataText, safeHref } from '../html.js';

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
  /** Set when the reader is asked as the delegate of this approver, who is away. */
  readonly forApprover?: string | undefined;
  /** How this signoff names itself (SIGNOFF_INSTANCE_NAME). */
  readonly instanceName: string;
}

/** Everything an approval mail says, in both its parts. */
export interface MailFacts {
  readonly subject: string;
  readonly requester: string;
  readonly title: string;
  readonly description: string | null;
  readonly link: string | null;
  readonly href: string | null;
  /** "key: value" lines for the text part. */
  readonly metadata: string;
  readonly metadataRows: readonly [string, string][];
  /** The action an agent asks to take and its hash; empty when none was named. */
  readonly action: string;
  readonly advice: readonly string[];
  /** `"prod" (stage 2 of 3)`: the stage the reader is asked to decide. */
  readonly stage: string;
  /** " Your approval counts toward Gate "tech"." or nothing. */
  readonly yourGates: string;
  /** Every stage with its gates, as every surface says them. */
  readonly stages: readonly StageFacts[];
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

/** The decision page's URL with a verdict preselected; the page still asks before deciding. */
function withVerdict(decisionUrl: string, verdict: 'approve' | 'reject'): string {
  const url = new URL(decisionUrl);
  url.searchParams.set('verdict', verdict);
  return url.href;
}

/** Why this reader got this mail; the most specific reason wins. */
function reasonFor(input: ApprovalMailInput): string {
  const { approval, stage } = input;
  const reader = normalizeIdentity(input.to);
  const escalated = approval.escalations.some(
    (e) => e.stage === stage && e.approvers.some((a) => normalizeIdentity(a) === reader),
  );
  if (input.forApprover)
    return `${input.forApprover} is away and delegated their approvals to you: you decide in their place, as "${normalizeIdentity(input.to)} for ${input.forApprover}"`;
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
  const stages = describeStages(evaluateStages(approval), approval.status !== 'pending');
  return {
    subject: `${prefix}Approval needed: ${approval.title}`.slice(0, 200),
    requester: requesterWords(approval.requester),
    title: approval.title,
    description: approval.description,
    link: approval.link,
    href: safeHref(approval.link),
    metadata: metadataText(approval.metadata),
    metadataRows: metadataRows(approval.metadata),
    action: actionText(approval.action),
    advice: adviceFor(approval),
    stage: stageCount > 1 ? `"${input.stage}" (stage ${position} of ${stageCount})` : `"${input.stage}"`,
    yourGates: yourGates(
      stages.find((s) => s.name === input.stage),
      input.to,
    ),
    stages,
    deadline: deadlineText(approval.expiresAt, now),
    linkLifetime: linkLifetime(input),
    reviewUrl: input.decisionUrl,
    approveUrl: withVerdict(input.decisionUrl, 'approve'),
    rejectUrl: withVerdict(input.decisionUrl, 'reject'),
    instanceName: input.instanceName,
    reason: reasonFor(input),
  };
}

function yourGates(stage: StageFacts | undefined, reader: string): string {
  const gates = gatesOfReader(stage, normalizeIdentity(reader));
  return gates.length > 0 ? `Your approval counts toward ${gates.join(' and ')}.` : '';
}

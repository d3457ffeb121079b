import type { BrokenGlass } from './break-glass.js';
import type { ChangeWindow } from './change-window.js';
import type { InputSchema, InputValues } from './inputs.js';
/** Plain data of the approval domain. No behaviour lives here. */

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type TerminalStatus = Exclude<ApprovalStatus, 'pending'>;

export type Verdict = 'approve' | 'reject';
export const CHANNELS = ['link', 'api', 'cli', 'ui', 'slack', 'ai', 'rule', 'timeout', 'grant'] as const;
export type Channel = (typeof CHANNELS)[number];

/** A group of approvers of which `required` distinct people must approve. */
export interface Gate {
  /** A label people see ("leads", "security"); it changes nothing about who may decide. */
  readonly name?: string | undefined;
  readonly approvers: readonly string[];
  readonly required: number;
}

/** What a stage does when its own timeout runs out: `escalate` hands over to the next stage. */
export type TimeoutAction = 'reject' | 'approve' | 'escalate';

/** Where a stage's Slack messages go: channels, and a direct message to each approver. Notification only. */
export interface SlackNotify {
  readonly channels: readonly string[];
  readonly directMessages: boolean;
}

export interface HumanStage {
  readonly name: string;
  readonly type: 'human';
  readonly gates: readonly Gate[];
  /** Post this stage to Slack; it never adds approvers. */
  readonly slack?: SlackNotify | undefined;
  /** How long this stage may wait once it is reached, and what happens then. */
  readonly timeoutMs?: number | undefined;
  readonly onTimeout?: TimeoutAction | undefined;
  /** Mail the approvers who have not decided after this long, then every `remindEveryMs`. */
  readonly remindAfterMs?: number | undefined;
  readonly remindEveryMs?: number | undefined;
  /** After this long, `escalateTo` become approvers of every gate of the stage. */
  readonly escalateAfterMs?: number | undefined;
  readonly escalateTo?: readonly string[] | undefined;
  /** What an approver of this stage fills in when deciding. */
  readonly inputs?: InputSchema | undefined;
}

export type RuleOutcome = 'approve' | 'reject' | 'pass';

/** One condition (a CEL expression) and what the stage does when it holds. */
export interface Rule {
  readonly when: string;
  readonly then: RuleOutcome;
  readonly reason?: string | undefined;
}

/** Rules evaluated in order; the first that holds decides. None holding skips the stage. */
export interface RuleStage {
  readonly name: string;
  readonly type: 'rule';
  readonly rules: readonly Rule[];
}

/** `decide`: the verdict counts; `advise`: shown to the humans; `shadow`: recorded only. */
export type AiMode = 'decide' | 'advise' | 'shadow';

export interface AiStage {
  readonly name: string;
  readonly type: 'ai';
  readonly mode: AiMode;
  readonly instructions: string | null;
  /** Verdicts below this confidence escalate. */
  readonly minConfidence: number;
  /** When false, an approving verdict escalates instead. */
  readonly canApprove: boolean;
}

export type Stage = HumanStage | RuleStage | AiStage;

export interface Policy {
  /** The named policy this came from, if any (the AI agreement figures are kept per name). */
  readonly name?: string | null | undefined;
  readonly stages: readonly Stage[];
  readonly allowSelfApproval: boolean;
  /** A reject must say why: a verdict of reject without a comment is refused. */
  readonly requireRejectComment?: boolean | undefined;
  /** An approve sooner than this after the stage started waiting is refused: take the time to read. */
  readonly minReviewTimeMs?: number | undefined;
  /** When what waits may resume: outside it, the callback waits for the window to open. */
  readonly window?: ChangeWindow | undefined;
}

/**
 * How a stage ended without a human verdict. `approve` and `reject` from a rule or AI stage
 * decide the whole approval; `pass` passes the stage; `skip` hands over to the next stage.
 */
export type StageOutcome = 'approve' | 'reject' | 'pass' | 'skip';

export type AiVerdict = 'approve' | 'reject' | 'escalate';

/** What an AI reviewer said (or why it could not say anything). */
export interface AiReview {
  readonly model: string;
  readonly mode: AiMode;
  readonly verdict: AiVerdict | null;
  readonly confidence: number | null;
  readonly rationale: string | null;
  /** Why the review could not be used: a timeout, an error, malformed output. */
  readonly error: string | null;
}

export interface StageResult {
  readonly stage: string;
  readonly outcome: StageOutcome;
  readonly via: 'rule' | 'ai' | 'timeout';
  readonly reason: string;
  readonly at: Date;
  readonly review?: AiReview | undefined;
}

/** Approvers added to a waiting stage because nobody decided in time. */
export interface Escalation {
  readonly stage: string;
  readonly approvers: readonly string[];
  readonly at: Date;
}

export interface Decision {
  readonly id: string;
  readonly stage: string;
  readonly actor: string;
  /** The actor's groups that named them an approver when they decided (for `group:NAME` gates). */
  readonly groups: readonly string[];
  readonly verdict: Verdict;
  readonly comment: string | null;
  readonly via: Channel;
  readonly at: Date;
  readonly ip: string | null;
  /** The token issuer and subject that proved the actor, when a token did. */
  readonly issuer: string | null;
  readonly subject: string | null;
  /** What the approver filled in, checked against the stage's inputs (defaults added). */
  readonly inputs: InputValues | null;
  /** Set when a delegate decided: whose seat this fills ("actor for onBehalfOf"). */
  readonly onBehalfOf: string | null;
}

export interface WebhookCallback {
  readonly type: 'webhook';
  readonly url: string;
  readonly secret?: string | undefined;
}

/** Resumes a CodePipeline manual-approval action (PutApprovalResult). */
export interface CodePipelineCallback {
  readonly type: 'codepipeline';
  readonly pipelineName: string;
  readonly stageName: string;
  readonly actionName: string;
  readonly token: string;
  readonly region?: string | undefined;
}

/** Resumes a Step Functions task waiting on a task token (SendTaskSuccess / SendTaskFailure). */
export interface StepFunctionsCallback {
  readonly type: 'stepfunctions';
  readonly taskToken: string;
  readonly region?: string | undefined;
  /** Reject and expiry fail the task instead of succeeding with `approved: false`. */
  readonly failOnReject?: boolean | undefined;
  /** While pending, send SendTaskHeartbeat this often (for tasks with a HeartbeatSeconds). */
  readonly heartbeatSeconds?: number | undefined;
}

/** Signals a CloudFormation WaitConditionHandle through its pre-signed URL. */
export interface CloudFormationCallback {
  readonly type: 'cloudformation';
  readonly url: string;
}

/**
 * Answers a GitHub deployment protection rule for one workflow run and environment. Only the
 * GitHub intake attaches it, from a signed webhook; the answer goes to GitHub's API base, to
 * the run the webhook named, never to a URL from the payload.
 */
export interface GitHubCallback {
  readonly type: 'github';
  readonly installationId: number;
  /** owner/name */
  readonly repository: string;
  readonly runId: number;
  readonly environment: string;
}

export type Callback =
  | WebhookCallback
  | CodePipelineCallback
  | StepFunctionsCallback
  | CloudFormationCallback
  | GitHubCallback;

/** What an agent is about to do, bound to its approval by a hash: a decision is for this action only. */
export interface BoundAction {
  /** As the requester gave it: `{ tool, arguments }`, or any JSON object the agent acts on. */
  readonly content: Readonly<Record<string, unknown>>;
  /** `sha256:` and the hex SHA-256 of the content's canonical JSON (RFC 8785). */
  readonly hash: string;
}

export interface Approval {
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly title: string;
  readonly description: string | null;
  readonly link: string | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly requester: string | null;
  readonly policy: Policy;
  readonly callback: Callback | null;
  readonly notify: readonly string[];
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly decidedAt: Date | null;
  /** Why the approval reached its terminal status, e.g. who rejected or "timed out". */
  readonly reason: string | null;
  /** A newer approval with the same key supersedes (cancels) this one while it is pending. */
  readonly supersedeKey: string | null;
  /**
   * Who created it, as an opaque scope (a credential, or the restriction a credential was
   * held to): only the same owner supersedes or cancels it. Null for approvals from before.
   */
  readonly owner: string | null;
  /** The issuer and subject of the token that asked, when a token did: that person never approves it. */
  readonly requesterToken: { readonly issuer: string; readonly subject: string } | null;
  /** The action this approval is for, when the requester named one. */
  readonly action: BoundAction | null;
  /**
   * The version of the policy it was created under, `sha256:HEX`: a named policy's version
   * (its entry in the policy change log), or the hash of the policy the request spelled out.
   * Null for approvals from before versions were recorded.
   */
  readonly policyVersion: string | null;
  readonly decisions: readonly Decision[];
  /** Outcomes of stages that ended without a human verdict (rules, AI, stage timeouts). */
  readonly results: readonly StageResult[];
  readonly escalations: readonly Escalation[];
  /** Set when someone broke the glass: approved at once, to be reviewed afterwards. */
  readonly breakGlass?: BrokenGlass | undefined;
  /** Optimistic concurrency token: every state change increments it. */
  readonly version: number;
}

/** Who is acting: a person or a machine, as established by authentication or by a link. */
export interface Actor {
  readonly id: string;
  readonly groups: readonly string[];
  /** Set when a token established the actor: its issuer and subject. */
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
}

/** Plain data of the approval domain. No behaviour lives here. */

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type TerminalStatus = Exclude<ApprovalStatus, 'pending'>;

export type Verdict = 'approve' | 'reject';
export const CHANNELS = ['link', 'api', 'cli', 'ui', 'slack', 'ai', 'rule', 'timeout'] as const;
export type Channel = (typeof CHANNELS)[number];

/** A group of approvers of which `required` distinct people must approve. */
export interface Gate {
  readonly approvers: readonly string[];
  readonly required: number;
}

export interface HumanStage {
  readonly name: string;
  readonly type: 'human';
  readonly gates: readonly Gate[];
}

export type Stage = HumanStage;

export interface Policy {
  readonly stages: readonly Stage[];
  readonly allowSelfApproval: boolean;
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

export type Callback =
  | WebhookCallback
  | CodePipelineCallback
  | StepFunctionsCallback
  | CloudFormationCallback;

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
  readonly decisions: readonly Decision[];
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

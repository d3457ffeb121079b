import type { GitHubCallback } from '../core/model.js';
import type { ApprovalView } from '../core/view.js';

/** Events a webhook callback receives. */
export type WebhookEventType = 'approval.created' | 'approval.decided' | 'approval.stage_passed';

/** A mail with a fresh one-time link for one approver of one stage. */
export interface EmailPayload {
  readonly approvalId: string;
  readonly stage: string;
  readonly approver: string;
  readonly renewed: boolean;
  /** A reminder to someone who has not decided yet. */
  readonly reminder?: boolean | undefined;
}

/** One event for the approval's webhook; the snapshot is taken when it is queued. */
export interface WebhookPayload {
  readonly approvalId: string;
  readonly type: WebhookEventType;
  readonly timestamp: string;
  readonly data: ApprovalView;
}

/** What a waiting workflow is told when its approval ends; the snapshot is taken at the end. */
export interface ResumePayload {
  readonly approvalId: string;
  readonly data: ApprovalView;
}

/** Heartbeat number `sequence` of a Step Functions task that still waits. */
export interface HeartbeatPayload {
  readonly approvalId: string;
  readonly sequence: number;
}

/** An AI review of one stage. */
export interface ReviewPayload {
  readonly approvalId: string;
  readonly stage: string;
}

/**
 * GitHub's answer to one deployment protection rule: the ended approval's outcome, or a
 * refusal signoff gives without making an approval (no route, an unknown requester).
 */
export interface GitHubAnswerPayload {
  readonly approvalId: string | null;
  readonly target: Omit<GitHubCallback, 'type'>;
  /** The approval's snapshot when it ended. */
  readonly data?: ApprovalView | undefined;
  /** Why the deployment is rejected without an approval. */
  readonly refusal?: string | undefined;
}

export type TimerAction = 'remind' | 'escalate' | 'timeout';

/** One timer of a waiting human stage. */
export interface TimerPayload {
  readonly approvalId: string;
  readonly stage: string;
  readonly action: TimerAction;
  /** Reminders are numbered from 1; each delivered one queues the next. */
  readonly sequence: number;
  /** When the stage started waiting (reminders are scheduled from it). */
  readonly startedAt: string;
}

/** One Slack message for one stage: to a channel, or to an approver by direct message. */
export interface SlackPostPayload {
  readonly approvalId: string;
  readonly stage: string;
  /** A channel (#deploys, C0123ABCD), or an approver's identity when `direct`. */
  readonly to: string;
  readonly direct: boolean;
}

/**
 * Brings one posted Slack message up to date with its approval (the state is read at
 * delivery), and replies in its thread with what changed, if anything did.
 */
export interface SlackSyncPayload {
  readonly approvalId: string;
  /** The slack_messages row. */
  readonly messageId: string;
  /** The thread reply: what changed, as plain text. */
  readonly note: string | null;
}

/**
 * A mail with a fresh one-time sign-in link for the web app. It belongs to no approval; the
 * link is made at delivery, so no token waits in the outbox.
 */
export interface SignInMailPayload {
  readonly approvalId: null;
  /** The address, normalised as every identity is. */
  readonly email: string;
}

/**
 * A mail to someone a break-glass skipped: at once, to tell them and ask for the review; and,
 * as a `reminder` at the review's deadline, again if it is still open then.
 */
export interface BreakGlassMailPayload {
  readonly approvalId: string;
  readonly to: string;
  readonly reminder: boolean;
}

/**
 * The outbox's task map: each kind names its payload. `enqueue` and the handlers are
 * checked against it, and the dispatcher needs a handler for every kind.
 */
export interface OutboxPayloads {
  email: EmailPayload;
  webhook: WebhookPayload;
  resume: ResumePayload;
  heartbeat: HeartbeatPayload;
  review: ReviewPayload;
  timer: TimerPayload;
  'github-answer': GitHubAnswerPayload;
  'slack-post': SlackPostPayload;
  'slack-sync': SlackSyncPayload;
  'sign-in-mail': SignInMailPayload;
  'break-glass-mail': BreakGlassMailPayload;
}

export type OutboxKind = keyof OutboxPayloads;

const KINDS: Record<OutboxKind, true> = {
  email: true,
  webhook: true,
  resume: true,
  heartbeat: true,
  review: true,
  timer: true,
  'github-answer': true,
  'slack-post': true,
  'slack-sync': true,
  'sign-in-mail': true,
  'break-glass-mail': true,
};

/** Whether a stored kind is one this signoff knows. */
export function isOutboxKind(kind: string): kind is OutboxKind {
  return Object.hasOwn(KINDS, kind);
}

/** Every kind this signoff knows, as the docs and the metrics help name them. */
export const OUTBOX_KINDS: readonly OutboxKind[] = Object.keys(KINDS).filter(isOutboxKind);

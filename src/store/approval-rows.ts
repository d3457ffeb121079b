// How an approval and its decisions are written to rows and read back: the encoding the
// statements of approvals.ts share.

import type { BrokenGlass } from '../core/break-glass.js';
import type { InputValues } from '../core/inputs.js';
import type {
  Approval,
  ApprovalStatus,
  Callback,
  Channel,
  Decision,
  Escalation,
  Policy,
  StageResult,
  Verdict,
} from '../core/model.js';
import type { ApprovalRow, DecisionRow } from './schema.js';

// Columns are named rather than `*`: a statement PostgreSQL keeps prepared must not change
// its result when a newer signoff adds a column beside this one.
export const APPROVAL_COLUMNS =
  'id, status, title, description, link, metadata, requester, policy, callback, notify, created_at, expires_at, decided_at, reason, version, idempotency_owner, idempotency_key, request_hash, supersede_key, progress, owner, requester_issuer, requester_subject, action, action_hash, policy_version';
export const DECISION_COLUMNS =
  'id, stage, actor, groups, verdict, comment, via, ip, at, issuer, subject, inputs, on_behalf_of';
/** One `?` per column of a comma-separated list, for an insert of all of them. */
export function placeholdersFor(columns: string): string {
  return columns
    .split(',')
    .map(() => '?')
    .join(', ');
}

/** A decision as the one-read form carries it: its columns in DECISION_COLUMNS order. */
export type DecisionTuple = [
  string,
  string,
  string,
  string,
  string,
  string | null,
  string,
  string | null,
  number,
  string | null,
  string | null,
  string | null,
  string | null,
];

/** The decisions of one approval from the tuples the one-read form carries. */
export function decisionRowsOf(approvalId: string, tuples: readonly DecisionTuple[]): DecisionRow[] {
  return tuples.map(
    ([id, stage, actor, groups, verdict, comment, via, ip, at, issuer, subject, inputs, onBehalfOf]) => ({
      id,
      approval_id: approvalId,
      stage,
      actor,
      groups,
      verdict,
      comment,
      via,
      ip,
      at,
      issuer,
      subject,
      inputs,
      on_behalf_of: onBehalfOf,
    }),
  );
}

interface StoredProgress {
  results?: (Omit<StageResult, 'at'> & { at: number })[];
  escalations?: (Omit<Escalation, 'at'> & { at: number })[];
  breakGlass?: Omit<BrokenGlass, 'at' | 'reviewDueAt'> & { at: number; reviewDueAt: number };
}

/** Stage results and escalations as the `progress` column holds them; null before any. */
export function serializeProgress(approval: Approval): string | null {
  const glass = approval.breakGlass;
  if (approval.results.length === 0 && approval.escalations.length === 0 && !glass) return null;
  const progress: StoredProgress = {
    results: approval.results.map((r) => ({ ...r, at: r.at.getTime() })),
    escalations: approval.escalations.map((e) => ({ ...e, at: e.at.getTime() })),
    ...(glass && {
      breakGlass: { ...glass, at: glass.at.getTime(), reviewDueAt: glass.reviewDueAt.getTime() },
    }),
  };
  return JSON.stringify(progress);
}

/** An approval from its row and its decisions' rows (in the order they were made). */
export function toApproval(row: ApprovalRow, decisions: DecisionRow[]): Approval {
  const progress: StoredProgress = row.progress
    ? (JSON.parse(row.progress) as StoredProgress)
    : { results: [], escalations: [] };
  return {
    results: (progress.results ?? []).map((r) => ({ ...r, at: new Date(r.at) })),
    escalations: (progress.escalations ?? []).map((e) => ({ ...e, at: new Date(e.at) })),
    breakGlass: progress.breakGlass && {
      ...progress.breakGlass,
      at: new Date(progress.breakGlass.at),
      reviewDueAt: new Date(progress.breakGlass.reviewDueAt),
    },
    id: row.id,
    status: row.status as ApprovalStatus,
    title: row.title,
    description: row.description,
    link: row.link,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    requester: row.requester,
    policy: JSON.parse(row.policy) as Policy,
    callback: row.callback ? (JSON.parse(row.callback) as Callback) : null,
    notify: JSON.parse(row.notify) as string[],
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    decidedAt: row.decided_at === null ? null : new Date(Number(row.decided_at)),
    reason: row.reason,
    supersedeKey: row.supersede_key,
    owner: row.owner,
    requesterToken:
      row.requester_issuer !== null && row.requester_subject !== null
        ? { issuer: row.requester_issuer, subject: row.requester_subject }
        : null,
    action:
      row.action !== null && row.action_hash !== null
        ? { content: JSON.parse(row.action) as Record<string, unknown>, hash: row.action_hash }
        : null,
    policyVersion: row.policy_version,
    version: Number(row.version),
    decisions: decisions.map(
      (d): Decision => ({
        id: d.id,
        stage: d.stage,
        actor: d.actor,
        groups: JSON.parse(d.groups) as string[],
        verdict: d.verdict as Verdict,
        comment: d.comment,
        via: d.via as Channel,
        at: new Date(Number(d.at)),
        ip: d.ip,
        issuer: d.issuer,
        subject: d.subject,
        inputs: d.inputs === null ? null : (JSON.parse(d.inputs) as InputValues),
        onBehalfOf: d.on_behalf_of,
      }),
    ),
  };
}

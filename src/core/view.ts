import { resumeTime } from './change-window.js';
import { mergedInputs } from './inputs.js';
import type { Approval, Decision, StageResult } from './model.js';
import type { NotificationFailure } from './notification-failure.js';
import { evaluateStages } from './stages.js';

function humanDecision(d: Decision) {
  return {
    stage: d.stage,
    actor: d.actor,
    verdict: d.verdict,
    comment: d.comment,
    via: d.via,
    at: d.at.toISOString(),
    inputs: d.inputs,
    onBehalfOf: d.onBehalfOf,
  };
}

/** A rule, an AI or a timeout that approved or rejected a stage shows as a decision of its own. */
function automatedDecision(r: StageResult) {
  const verdict = r.outcome === 'reject' ? 'reject' : r.outcome === 'skip' ? null : 'approve';
  if (!verdict) return [];
  const actor = r.via === 'ai' ? `ai:${r.review?.model ?? 'unknown'}` : r.via;
  return [
    {
      stage: r.stage,
      actor,
      verdict,
      comment: r.reason,
      via: r.via,
      at: r.at.toISOString(),
      inputs: null,
      onBehalfOf: null,
    },
  ];
}

/** When an approved change may go ahead, if its policy's change window holds it back; else null. */
function heldUntil(approval: Approval): string | null {
  if (!approval.decidedAt) return null;
  const at = resumeTime(approval, approval.decidedAt);
  return at > approval.decidedAt ? at.toISOString() : null;
}

/** The inputs a human stage asks for, in JSON Schema's own shape. */
function inputsOf(approval: Approval, stageName: string) {
  const stage = approval.policy.stages.find((s) => s.name === stageName);
  if (stage?.type !== 'human' || !stage.inputs) return null;
  return { type: 'object', ...stage.inputs };
}

/**
 * The public JSON shape of an approval (see the contract). Secrets of the callback never
 * appear. `notificationFailures` are the messages to its people that were given up on.
 */
export function approvalView(approval: Approval, notificationFailures: readonly NotificationFailure[]) {
  return {
    id: approval.id,
    status: approval.status,
    title: approval.title,
    description: approval.description,
    link: approval.link,
    metadata: approval.metadata,
    requester: approval.requester,
    createdAt: approval.createdAt.toISOString(),
    expiresAt: approval.expiresAt.toISOString(),
    decidedAt: approval.decidedAt?.toISOString() ?? null,
    reason: approval.reason,
    key: approval.supersedeKey,
    action: approval.action?.content ?? null,
    actionHash: approval.action?.hash ?? null,
    callback: approval.callback ? { type: approval.callback.type } : null,
    policyVersion: approval.policyVersion,
    stages: evaluateStages(approval).map((stage) => ({
      name: stage.name,
      type: stage.type,
      status: stage.status,
      inputs: inputsOf(approval, stage.name),
      gates: stage.gates.map((gate) => ({
        name: gate.name ?? null,
        approvers: [...gate.approvers],
        required: gate.required,
        approvals: [...gate.approvals],
      })),
      result: stage.result
        ? {
            outcome: stage.result.outcome,
            via: stage.result.via,
            reason: stage.result.reason,
            at: stage.result.at.toISOString(),
            review: stage.result.review ?? null,
          }
        : null,
    })),
    decisions: [
      ...approval.decisions.map(humanDecision),
      ...approval.results.flatMap(automatedDecision),
    ].sort((a, b) => a.at.localeCompare(b.at)),
    inputs: mergedInputs(approval.decisions),
    resumesAt: heldUntil(approval),
    breakGlass: approval.breakGlass
      ? {
          by: approval.breakGlass.by,
          reason: approval.breakGlass.reason,
          at: approval.breakGlass.at.toISOString(),
          stage: approval.breakGlass.stage,
          reviewers: [...approval.breakGlass.reviewers],
          reviewDueAt: approval.breakGlass.reviewDueAt.toISOString(),
        }
      : null,
    notificationFailures: [...notificationFailures],
  };
}

export type ApprovalView = ReturnType<typeof approvalView>;

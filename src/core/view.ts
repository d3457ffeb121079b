import { evaluateStages } from './approval.js';
import type { Approval } from './model.js';

/** The public JSON shape of an approval (see the contract). Secrets of the callback never appear. */
export function approvalView(approval: Approval) {
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
    callback: approval.callback ? { type: approval.callback.type } : null,
    stages: evaluateStages(approval).map((stage) => ({
      name: stage.name,
      type: stage.type,
      status: stage.status,
      gates: stage.gates.map((gate) => ({
        approvers: gate.approvers,
        required: gate.required,
        approvals: gate.approvals,
      })),
    })),
    decisions: approval.decisions.map((d) => ({
      stage: d.stage,
      actor: d.actor,
      verdict: d.verdict,
      comment: d.comment,
      via: d.via,
      at: d.at.toISOString(),
    })),
  };
}

export type ApprovalView = ReturnType<typeof approvalView>;

import type { Approval } from '../core/model.js';
import { approvalView } from '../core/view.js';

/** What an agent is told about an approval: where it stands, and who decided what, in their words. */
export function agentView(approval: Approval, publicUrl: string) {
  const view = approvalView(approval, []);
  return {
    id: approval.id,
    status: approval.status,
    title: approval.title,
    /** Where people read it in full and decide. */
    url: `${publicUrl}/approvals/${approval.id}`,
    actionHash: view.actionHash,
    /** Set when the policy's change window holds an approved action back until then. */
    resumesAt: view.resumesAt,
    expiresAt: view.expiresAt,
    decidedAt: view.decidedAt,
    reason: approval.reason,
    decisions: view.decisions.map((d) => ({
      actor: d.actor,
      verdict: d.verdict,
      comment: d.comment,
      via: d.via,
      at: d.at,
      inputs: d.inputs,
    })),
    /** What approvers filled in for the stages that ask (see the approval's `inputs`). */
    inputs: view.inputs,
  };
}

export type AgentView = ReturnType<typeof agentView>;

/** One sentence an agent can act on: the verdict, who gave it, and what they said. */
export function agentSummary(view: AgentView): string {
  if (view.status === 'pending')
    return `${view.id} is still pending: people decide at ${view.url} (it expires ${view.expiresAt}). Do not take the action yet.`;
  const said = view.decisions
    .filter((d) => d.verdict === (view.status === 'approved' ? 'approve' : 'reject'))
    .map((d) => `${d.actor}${d.comment ? `: "${d.comment}"` : ''}`);
  const by = said.length > 0 ? ` by ${said.join('; ')}` : view.reason ? ` (${view.reason})` : '';
  const held =
    view.status === 'approved' && view.resumesAt !== null && Date.parse(view.resumesAt) > Date.now();
  const next = held
    ? `Its policy's change window holds it: do not take the action before ${view.resumesAt}; then you may take exactly the action with hash ${view.actionHash ?? '(none named)'}.`
    : view.status === 'approved'
      ? `You may take exactly the action with hash ${view.actionHash ?? '(none named)'}.`
      : 'Do not take the action.';
  return `${view.id} was ${view.status}${by}. ${next}`;
}

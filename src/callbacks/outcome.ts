import { inputsLine } from '../core/inputs.js';
import type { ApprovalView } from '../core/view.js';

/** How an approval ended, as the waiting workflow is told. */
export interface Outcome {
  readonly approvalId: string;
  readonly approved: boolean;
  readonly status: ApprovalView['status'];
  /** One line naming who decided and why (or that time ran out). */
  readonly summary: string;
  readonly decisions: ApprovalView['decisions'];
  /** What approvers filled in (see ApprovalView.inputs); empty when no stage asks. */
  readonly inputs: ApprovalView['inputs'];
}

const PEOPLE = new Set(['link', 'api', 'cli', 'ui', 'slack']);

/**
 * The outcome of a decided approval's snapshot. The summary names who decided and why: a
 * rejection's reason carries its comment already; an approval adds what approvers said.
 */
export function outcomeOf(view: ApprovalView): Outcome {
  const said = view.decisions
    .filter((d) => d.verdict === 'approve' && d.comment && PEOPLE.has(d.via))
    .map((d) => `${d.actor}: ${d.comment}`);
  const why = view.status === 'approved' && said.length > 0 ? ` (${said.join('; ')})` : '';
  // A snapshot queued by a release before inputs existed has none.
  const inputs = view.inputs ?? {};
  const given = Object.keys(inputs).length > 0 ? ` · inputs: ${inputsLine(inputs)}` : '';
  return {
    approvalId: view.id,
    approved: view.status === 'approved',
    status: view.status,
    summary: `signoff ${view.id} ${view.status}: ${view.reason ?? 'no reason given'}${why}${given}`,
    decisions: view.decisions,
    inputs,
  };
}

/** Cuts text to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

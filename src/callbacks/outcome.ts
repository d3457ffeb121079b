import type { ApprovalView } from '../core/view.js';

/** How an approval ended, as the waiting workflow is told. */
export interface Outcome {
  readonly approvalId: string;
  readonly approved: boolean;
  readonly status: ApprovalView['status'];
  /** One line naming who decided and why (or that time ran out). */
  readonly summary: string;
  readonly decisions: ApprovalView['decisions'];
}

/** The outcome of a decided approval's snapshot. */
export function outcomeOf(view: ApprovalView): Outcome {
  return {
    approvalId: view.id,
    approved: view.status === 'approved',
    status: view.status,
    summary: `signoff ${view.id} ${view.status}: ${view.reason ?? 'no reason given'}`,
    decisions: view.decisions,
  };
}

/** Cuts text to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

import { APPROVAL_COLUMNS } from './evidence-approval.js';
import { DECISION_HEADERS, decisionCells } from './evidence-decisions.js';
import type { EvidencePack } from './evidence-schema.js';

/**
 * A cell as RFC 4180 writes it, quoted when it must be. A cell that a spreadsheet would run
 * as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a `'`
 * first: a title is the requester's text, and opening the pack must not run it.
 */
export function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const line = (cells: readonly string[]) => cells.map(csvCell).join(',');

/**
 * The pack's approvals as CSV: one row per decision, the approval's columns repeated on each,
 * so a spreadsheet filters and counts decisions directly; an approval nobody decided (expired,
 * cancelled, pending) is one row with the decision's columns empty. The summary is not in it
 * (CSV has one table): the JSON and HTML forms carry it.
 */
export function renderEvidenceCsv(pack: EvidencePack): string {
  const header = [...APPROVAL_COLUMNS.map(([name]) => name), ...DECISION_HEADERS];
  const none = DECISION_HEADERS.map(() => '');
  const rows = pack.approvals.flatMap((approval) => {
    const own = APPROVAL_COLUMNS.map(([, cell]) => cell(approval));
    if (approval.decisions.length === 0) return [line([...own, ...none])];
    return approval.decisions.map((decision) => line([...own, ...decisionCells(decision)]));
  });
  return `${[line(header), ...rows].join('\r\n')}\r\n`;
}

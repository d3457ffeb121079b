import { renderEvidenceCsv } from './evidence-csv.js';
import { renderEvidenceHtml } from './evidence-html.js';
import type { EvidencePack } from './evidence-schema.js';

export const EVIDENCE_FORMATS = ['json', 'csv', 'html'] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

/** The media type of each format. */
export const EVIDENCE_MEDIA_TYPES: Readonly<Record<EvidenceFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv',
  html: 'text/html',
};

/** The pack in the format asked for: the same facts in each. */
export function renderEvidence(pack: EvidencePack, format: EvidenceFormat): string {
  if (format === 'csv') return renderEvidenceCsv(pack);
  if (format === 'html') return renderEvidenceHtml(pack);
  return `${JSON.stringify(pack, null, 2)}\n`;
}

/** A file name that says what the pack is: `signoff-evidence-2026-10-01-2027-01-01.csv`. */
export function evidenceFileName(pack: EvidencePack, format: EvidenceFormat): string {
  return `signoff-evidence-${pack.period.from.slice(0, 10)}-${pack.period.to.slice(0, 10)}.${format}`;
}

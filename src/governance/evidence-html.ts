import { createHash } from 'node:crypto';
import { formatDuration } from '../core/duration.js';
import { html, type SafeHtml, trustedHtml } from '../html.js';
import { APPROVAL_COLUMNS } from './evidence-approval.js';
import { DECISION_HEADERS, decisionCells } from './evidence-decisions.js';
import type { ApprovalEvidence, EvidencePack, EvidenceSummary } from './evidence-schema.js';

/**
 * The evidence pack as a report a person can hand over: one self-contained page, its style
 * inline, no script and nothing fetched from anywhere (its own Content-Security-Policy says
 * so, and a browser holds it to that wherever the file is opened).
 */

// Inserted as it is (it is ours, and escaping would change the bytes its hash is of).
const STYLE = `body{font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin:1.5rem 0 .25rem}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
td.hash{font-family:ui-monospace,monospace;word-break:break-all;font-size:.8rem}
.ok{color:#0a5c2b;font-weight:600}.bad{color:#a4000f;font-weight:600}
.facts th{width:14rem}.wide{overflow-x:auto}
@media print{body{margin:0;max-width:none}article{break-inside:avoid}}`;
const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');
const POLICY = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; form-action 'none'`;

const duration = (ms: number | null) => (ms === null ? '—' : formatDuration(ms));
const verdict = (ok: boolean, good: string, bad: string) =>
  html`<span class="${ok ? 'ok' : 'bad'}">${ok ? good : bad}</span>`;

function chainSection(summary: EvidenceSummary): SafeHtml {
  const { chain, policyLog } = summary;
  return html`<p>Audit trail: ${verdict(
    chain.verified,
    `verified: ${chain.events} events of ${chain.approvals} approvals`,
    `BROKEN: ${chain.broken.length} of ${chain.approvals} approvals`,
  )}</p>
${chain.broken.length > 0 ? html`<ul>${chain.broken.map((b) => html`<li><a href="#${b.approvalId}">${b.approvalId}</a>: ${b.why}</li>`)}</ul>` : ''}
<p>Policy change log: ${verdict(
    policyLog.verified,
    `verified: ${policyLog.entries} entries`,
    `BROKEN: ${policyLog.broken.map((b) => `${b.at.id} (${b.at.why})`).join('; ')}`,
  )}</p>`;
}

function summarySection(pack: EvidencePack): SafeHtml {
  const { summary } = pack;
  const statuses = Object.entries(summary.outcomes);
  const timing = [
    { policy: 'all policies', ...summary.timeToDecision.overall },
    ...summary.timeToDecision.byPolicy,
  ];
  return html`<section><h2>Summary</h2>${chainSection(summary)}
<table><caption>Outcomes of the ${summary.approvals} approvals created in the period</caption>
<tr>${statuses.map(([status]) => html`<th scope="col">${status}</th>`)}</tr>
<tr>${statuses.map(([, count]) => html`<td>${count}</td>`)}</tr></table>
<table><caption>Time to decision (approved or rejected; nearest-rank percentiles)</caption>
<tr><th scope="col">policy</th><th scope="col">decided</th><th scope="col">median</th><th scope="col">90th percentile</th></tr>
${timing.map((t) => html`<tr><td>${t.policy}</td><td>${t.decided}</td><td>${duration(t.medianMs)}</td><td>${duration(t.p90Ms)}</td></tr>`)}</table>
<table><caption>Separation of duties and order</caption>
<tr><th scope="row">decisions</th><td>${summary.decisions}</td></tr>
<tr><th scope="row">decided by their requester</th><td>${verdict(summary.decidedByRequester === 0, '0', String(summary.decidedByRequester))}</td></tr>
<tr><th scope="row">workflow resumed before the decision</th><td>${verdict(summary.resumedBeforeDecision === 0, '0', String(summary.resumedBeforeDecision))}</td></tr>
<tr><th scope="row">policy version not verified</th><td>${verdict(summary.policyUnverified === 0, '0', String(summary.policyUnverified))}</td></tr>
</table></section>`;
}

function versionsSection(pack: EvidencePack): SafeHtml {
  return html`<section><h2>Policy versions in force</h2>
<table><tr><th scope="col">file</th><th scope="col">policy</th><th scope="col">#</th><th scope="col">version</th><th scope="col">first seen</th></tr>
${pack.policyVersions.map(
  (v) =>
    html`<tr><td>${v.source}</td><td>${v.name}</td><td>${v.seq}</td><td class="hash">${v.version ?? '(removed)'}</td><td>${v.firstSeenAt}</td></tr>`,
)}</table></section>`;
}

function approvalArticle(approval: ApprovalEvidence): SafeHtml {
  const decisions =
    approval.decisions.length === 0
      ? html`<p>No decisions.</p>`
      : html`<div class="wide"><table><caption>Decisions</caption>
<tr>${DECISION_HEADERS.map((h) => html`<th scope="col">${h}</th>`)}</tr>
${approval.decisions.map((d) => html`<tr>${decisionCells(d).map((cell) => html`<td>${cell}</td>`)}</tr>`)}</table></div>`;
  return html`<article id="${approval.id}"><h3>${approval.title}</h3>
<table class="facts">${APPROVAL_COLUMNS.map(([name, cell]) => html`<tr><th scope="row">${name}</th><td>${cell(approval)}</td></tr>`)}</table>
${decisions}</article>`;
}

/** The pack as one HTML page. */
export function renderEvidenceHtml(pack: EvidencePack): string {
  const { period, sample, summary } = pack;
  const listed = sample
    ? `a sample of ${pack.approvals.length} (seed ${sample.seed}; the same seed picks the same sample)`
    : `all ${pack.approvals.length}`;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${POLICY}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Change approval evidence ${period.from} to ${period.to}</title><style>${trustedHtml(STYLE)}</style></head>
<body><header><h1>Change approval evidence</h1>
<p>Approvals created from ${period.from} up to ${period.to}, read from signoff's database at ${pack.generatedAt}.
Of ${summary.approvals} approvals, ${listed} are listed below; the summary counts them all.</p></header>
<main>${summarySection(pack)}${versionsSection(pack)}
<section><h2>Approvals</h2>${pack.approvals.map(approvalArticle)}</section></main>
<footer><p>Each field is described in signoff's docs/governance.md. Anyone with access to the database can check the chains again with <code>signoff audit verify</code>.</p></footer>
</body></html>`}`;
}

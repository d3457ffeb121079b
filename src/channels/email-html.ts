import { html, type SafeHtml, trustedHtml } from '../html.js';
import { renderMarkdown } from '../markdown.js';
import type { MailFacts } from './email-facts.js';

/*
 * Mail clients ignore most of CSS: layout is tables, styles are inline, and the only
 * stylesheet is a dark-mode override for the clients that honour prefers-color-scheme
 * (the others invert the light colours themselves, which these survive).
 */

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif";

const DARK_MODE = trustedHtml(`<style>
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media (prefers-color-scheme: dark) {
  .page { background: #0d1117 !important; }
  .card { background: #161b22 !important; border-color: #3d444d !important; color: #f0f6fc !important; }
  .card h1, .card p, .card td { color: #f0f6fc !important; }
  .card .muted, .card .muted a { color: #9198a1 !important; }
  .card .facts { background: #0d1117 !important; border-color: #3d444d !important; }
  .card a { color: #4493f8 !important; }
  .card a.button { color: #ffffff !important; }
}
</style>`);

/** A 44 px tall button as a table cell, the form every mail client renders with its colour. */
function button(label: string, href: string, colour: string): SafeHtml {
  return html`<td bgcolor="${colour}" style="border-radius:6px;background:${colour}">
<a class="button" href="${href}" style="display:inline-block;padding:12px 22px;line-height:20px;font-family:${FONT};font-size:16px;font-weight:600;color:#ffffff;text-decoration:none;border-radius:6px">${label}</a>
</td>`;
}

function paragraph(content: SafeHtml | string, style = ''): SafeHtml {
  return html`<p style="margin:0 0 16px;${style}">${content}</p>`;
}

function factsTable(facts: MailFacts): SafeHtml {
  const row = (name: string, value: SafeHtml | string) =>
    html`<tr><td valign="top" style="padding:4px 12px 4px 0;font-weight:600">${name}</td><td style="padding:4px 0;word-break:break-word">${value}</td></tr>`;
  return html`<table role="presentation" class="facts" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 20px;background:#f6f8fa;border:1px solid #d1d9e0;border-radius:6px;font-size:15px">
<tr><td style="padding:12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
${row('Decide by', facts.deadline)}
${row('You are asked in', html`stage ${facts.stage}.${facts.yourGates ? ` ${facts.yourGates}` : ''}`)}
${facts.stages.map((stage) => row(stage.heading, html`${stage.state}${stage.gates.map((gate) => html`<br>${gate.line}`)}`))}
</table>
</td></tr>
</table>`;
}

/** Metadata as the page shows it: a table of keys and values. */
function metadataTable(rows: MailFacts['metadataRows']): SafeHtml | '' {
  if (rows.length === 0) return '';
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;font-size:14px;border-collapse:collapse">
${rows.map(([key, value]) => html`<tr><td valign="top" style="padding:4px 12px 4px 0;font-weight:600;border-top:1px solid #d1d9e0">${key}</td><td style="padding:4px 0;border-top:1px solid #d1d9e0;word-break:break-word">${value}</td></tr>`)}
</table>`;
}

/** The HTML part of an approval mail: the same facts as the text part. */
export function renderMailHtml(facts: MailFacts): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>${facts.subject}</title>
${DARK_MODE}
</head>
<body class="page" style="margin:0;padding:0;background:#f6f8fa">
<table role="presentation" class="page" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f6f8fa">
<tr><td align="center" style="padding:16px 8px">
<table role="presentation" class="card" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background:#ffffff;color:#1f2328;border:1px solid #d1d9e0;border-radius:8px">
<tr><td style="padding:24px 20px;font-family:${FONT};font-size:16px;line-height:1.5;color:#1f2328">
${paragraph(html`${facts.requester} asks for your approval:`)}
<h1 style="margin:0 0 16px;font-size:22px;line-height:1.3;color:#1f2328;word-break:break-word">${facts.title}</h1>
${facts.description && html`<div style="margin:0 0 16px;word-break:break-word">${renderMarkdown(facts.description)}</div>`}
${facts.link && paragraph(html`Link: ${facts.href ? html`<a href="${facts.href}" style="color:#0969da;word-break:break-all">${facts.link}</a>` : facts.link}`, 'word-break:break-all')}
${facts.action && html`${paragraph('Action (a decision is for exactly this one):')}<pre style="margin:0 0 16px;padding:8px;white-space:pre-wrap;word-break:break-word;font-size:13px;border:1px solid #d1d9e0;border-radius:6px">${facts.action}</pre>`}
${metadataTable(facts.metadataRows)}
${facts.advice.map((line) => paragraph(line, 'border-left:3px solid #8250df;padding-left:8px'))}
${factsTable(facts)}
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px">
<tr>${button('Approve…', facts.approveUrl, '#1a7f37')}<td width="12" style="width:12px">&nbsp;</td>${button('Reject…', facts.rejectUrl, '#cf222e')}</tr>
</table>
${paragraph(html`Or <a href="${facts.reviewUrl}" style="color:#0969da">review it first</a>. ${facts.linkLifetime} Opening it changes nothing: you confirm on the page it opens.`, 'font-size:14px')}
<p class="muted" style="margin:24px 0 0;padding-top:12px;border-top:1px solid #d1d9e0;font-size:13px;color:#59636e">Sent by signoff at ${facts.instanceName}. You got this mail because ${facts.reason}.</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`;
  return page.toString();
}

import {
  describeStages,
  gatesOfReader,
  requesterWords,
  whatDecidingDid,
  whatDecidingDoes,
} from '../../core/approval-facts.js';
import type { AuditEvent } from '../../core/audit.js';
import { describeWindow, formatInZone, nextOpening, resumeTime } from '../../core/change-window.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { type InputValues, inputsLine } from '../../core/inputs.js';
import type { Approval, Verdict } from '../../core/model.js';
import { seatLabel } from '../../core/seat.js';
import { currentStage, evaluateStages } from '../../core/stages.js';
import { html, type SafeHtml, safeHref } from '../../html.js';
import { renderMarkdown } from '../../markdown.js';
import { inputFields } from './input-fields.js';
import { banner, when } from './layout.js';

function metadataValue(value: unknown): SafeHtml {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const href = typeof value === 'string' ? safeHref(value) : null;
  return href ? html`<a href="${href}" rel="noreferrer noopener nofollow">${text}</a>` : html`${text}`;
}

/** The action an agent asks to take, in full, under the hash that binds the decision to it. */
function actionSection(approval: Approval): SafeHtml | '' {
  if (!approval.action) return '';
  return html`<h2>Action</h2><p class="muted">A decision is for exactly this action: <code class="hash">${approval.action.hash}</code></p>
<pre class="action">${JSON.stringify(approval.action.content, null, 2)}</pre>`;
}

function metadataTable(metadata: Readonly<Record<string, unknown>>): SafeHtml | '' {
  const entries = Object.entries(metadata).slice(0, 100);
  if (entries.length === 0) return '';
  return html`<h2>Details</h2><table><tbody>${entries.map(
    ([key, value]) => html`<tr><th scope="row">${key}</th><td>${metadataValue(value)}</td></tr>`,
  )}</tbody></table>`;
}

function stagesSection(approval: Approval): SafeHtml {
  const stages = describeStages(evaluateStages(approval), approval.status !== 'pending');
  return html`<h2>Stages</h2>${stages.map(
    (stage, index) => html`<section class="stage" aria-label="${stage.heading}"><h3>${stage.heading}
<span class="badge">${stage.state}</span></h3>
${stage.gates.length > 0 ? html`<ul class="plain">${stage.gates.map((gate) => html`<li>${gate.line}</li>`)}</ul>` : ''}
${stageResult(approval, index)}
</section>`,
  )}`;
}

/** How a stage that rules or an AI decided, or that timed out, ended. */
function stageResult(approval: Approval, index: number): SafeHtml | '' {
  const result = evaluateStages(approval)[index]?.result;
  return result ? html`<p class="muted">${result.outcome} by ${result.via}: ${result.reason}</p>` : '';
}

function adviceSection(approval: Approval): SafeHtml | '' {
  const reviews = approval.results.filter((r) => r.review && r.review.mode !== 'shadow');
  if (reviews.length === 0) return '';
  return html`<h2>AI review</h2>${reviews.map((r) => {
    const review = r.review;
    if (!review) return '';
    const role = review.mode === 'decide' ? 'Decision' : 'Advice';
    return review.verdict === null
      ? html`<p class="advice"><strong>${role}:</strong> AI reviewer (${review.model}) could not review: ${review.error}</p>`
      : html`<p class="advice"><strong>${role}:</strong> AI reviewer (${review.model}) says ${review.verdict}, confidence ${review.confidence ?? '?'}: ${review.rationale ?? ''}</p>`;
  })}`;
}

const EVENT_WORDS: Record<string, string> = {
  'approval.created': 'requested',
  // A person's verdict reads as the verdict itself; the approval's end reads as its outcome.
  'approval.decision': 'decided',
  'approval.approved': '→ the request is approved',
  'approval.rejected': '→ the request is rejected',
  'approval.expired': '→ the request expired',
  'approval.cancelled': 'cancelled the request',
  'approval.break_glass': 'broke the glass: approved at once, without the gate',
  'break_glass.reviewed': 'reviewed the break-glass',
  'grant.created': 'allowed the same action again (a standing grant)',
  'grant.used': 'approved through a standing grant',
  'grant.revoked': 'revoked a standing grant',
  'approval.escalated': 'escalated',
  'approval.reminded': 'reminded approvers',
  'stage.result': 'stage ended',
  'link.opened': 'opened the link',
  'link.renewed': 'asked for a new link',
  'notification.sent': 'mail sent',
  'callback.delivered': 'told what waits on it',
  'callback.failed': 'could not tell what waits on it (will retry)',
  'callback.dead_lettered': 'gave up telling what waits on it',
};

const OUTCOMES: Record<string, true> = {
  'approval.approved': true,
  'approval.rejected': true,
  'approval.expired': true,
};

/** Whether an audit event's `inputs` are what a decision records (the trail is JSON from the store). */
function isInputValues(value: unknown): value is InputValues {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/** Repeats of one event (retries, reminders) in a row read as one line with a count. */
function collapseRepeats(events: readonly AuditEvent[]): { event: AuditEvent; times: number }[] {
  const lines: { event: AuditEvent; times: number }[] = [];
  for (const event of events) {
    const last = lines.at(-1);
    const repeat =
      last &&
      last.event.type === event.type &&
      last.event.actor === event.actor &&
      !('comment' in event.data);
    if (repeat) last.times += 1;
    else lines.push({ event, times: 1 });
  }
  return lines;
}

function timeline(events: readonly AuditEvent[]): SafeHtml | '' {
  if (events.length === 0) return '';
  const lines = collapseRepeats(events).slice(-50);
  return html`<h2>Timeline</h2><ul class="plain timeline">${lines.map(({ event, times }) => timelineLine(event, times))}</ul>`;
}

/** What one event says: a verdict as the verdict itself, with its comment and inputs. */
function eventWords(e: AuditEvent): SafeHtml {
  const words =
    e.type === 'approval.decision' && typeof e.data.verdict === 'string'
      ? e.data.verdict === 'approve'
        ? 'approved'
        : 'rejected'
      : (EVENT_WORDS[e.type] ?? e.type);
  const comment = typeof e.data.comment === 'string' && e.data.comment ? html` — “${e.data.comment}”` : '';
  const given = isInputValues(e.data.inputs) ? html` · ${inputsLine(e.data.inputs)}` : '';
  return html`${words}${comment}${given}`;
}

function timelineLine(e: AuditEvent, times: number): SafeHtml {
  const count = times > 1 ? ` (${times} times)` : '';
  // An outcome is the approval's, whoever's verdict settled it.
  const who = e.type in OUTCOMES ? '' : `${e.actor === null ? 'signoff' : requesterWords(e.actor)} `;
  return html`<li>${when(e.at)} · ${who}${eventWords(e)}${count}</li>`;
}

function outcome(approval: Approval): SafeHtml {
  const people = approval.decisions.map(
    (d) =>
      html`<li>${seatLabel(d)} ${d.verdict === 'approve' ? 'approved' : 'rejected'} ${when(d.at)}${d.comment ? html` — “${d.comment}”` : ''}${d.inputs ? html` · ${inputsLine(d.inputs)}` : ''}</li>`,
  );
  return html`<h2>Decisions</h2>${people.length ? html`<ul class="plain">${people}</ul>` : html`<p class="muted">No one has decided yet.</p>`}`;
}

/** Loud on purpose: an approval that skipped its gate says so first, with why and the review due. */
function breakGlassBanner(approval: Approval): SafeHtml | '' {
  const glass = approval.breakGlass;
  if (!glass) return '';
  return banner(
    html`<strong>Approved by break-glass</strong>: ${glass.by} approved it at once, without the gate of stage “${glass.stage}”. Reason: ${glass.reason}. Its after-review by ${glass.reviewers.join(', ') || 'an approver'} is due ${when(glass.reviewDueAt)}.`,
    'bad',
  );
}

/** The summary every approval page shows, live parts marked for refreshing. */
export interface SummaryContext {
  readonly events: readonly AuditEvent[];
  readonly now: Date;
  /** How many signoff waits (long polls) this server holds on the approval now. */
  readonly polling: number;
}

/** The policy's change window, when it holds what waits back: "Resumes Mon 8 Dec 2026, 09:00 CET …". */
function windowNote(approval: Approval, now: Date): string {
  const window = approval.policy.window;
  if (!window) return '';
  const shut = `the policy's change window (${describeWindow(window)})`;
  if (approval.status === 'pending') {
    const opens = nextOpening(window, now);
    if (!opens || opens <= now) return '';
    const when = formatInZone(opens, window.timezone);
    return window.outside === 'reject'
      ? ` Outside ${shut}: approved now, it is rejected; the window opens ${when}.`
      : ` Outside ${shut}: approved now, it resumes ${when}.`;
  }
  const resumes = approval.decidedAt ? resumeTime(approval, approval.decidedAt) : now;
  return resumes > now ? ` It resumes ${formatInZone(resumes, window.timezone)}, when ${shut} opens.` : '';
}

/** What deciding does while the approval waits; what it did once decided. */
function effectLine(approval: Approval, { events, polling, now }: SummaryContext): SafeHtml {
  const waiters = { callback: approval.callback, agent: approval.action !== null, polling };
  const note = windowNote(approval, now);
  return approval.status === 'pending'
    ? html`<p><strong>What deciding does:</strong> ${whatDecidingDoes(waiters)}${note}</p>`
    : html`<p><strong>What deciding did:</strong> ${note ? 'The decision is recorded.' : whatDecidingDid(waiters, events)}${note}</p>`;
}

/** The summary every approval page shows, live parts marked for refreshing. */
export function approvalSummary(approval: Approval, context: SummaryContext): SafeHtml {
  const href = safeHref(approval.link);
  const deadline =
    approval.status === 'pending'
      ? html`Decide by ${when(approval.expiresAt)} (in ${formatDuration(approval.expiresAt.getTime() - context.now.getTime())})`
      : html`${approval.status} ${approval.decidedAt ? when(approval.decidedAt) : ''}${approval.reason ? html`: ${approval.reason}` : ''}`;
  return html`<h1>${approval.title}</h1>
<div id="status" data-live>${breakGlassBanner(approval)}<p><span class="badge status-${approval.status}">${approval.status}</span>
<span class="muted">Requested by ${requesterWords(approval.requester)} · ${deadline}</span></p>
${effectLine(approval, context)}</div>
${approval.description ? html`<div class="description">${renderMarkdown(approval.description)}</div>` : ''}
${href ? html`<p>Link: <a href="${href}" rel="noreferrer noopener nofollow">${approval.link}</a></p>` : approval.link ? html`<p>Link: ${approval.link}</p>` : ''}
${actionSection(approval)}
${metadataTable(approval.metadata)}
<div id="progress" data-live>${stagesSection(approval)}${outcome(approval)}</div>
${adviceSection(approval)}
<div id="timeline" data-live>${timeline(context.events)}</div>`;
}

export interface DecisionFormOptions {
  readonly action: string;
  readonly actor: string;
  readonly csrfToken?: string | undefined;
  readonly preselect?: Verdict | undefined;
  readonly note?: SafeHtml | string | undefined;
  /** What the reader may allow again with their approval (a standing grant), if anything. */
  readonly grant?: { maxUses: number; maxDurationMs: number; tool: string | null } | undefined;
}

const GRANT_DURATIONS = ['15m', '1h', '8h', '1d', '7d'];

/** "Approve, and the same again": how many times, for how long, of what. Used only with Approve. */
function grantFields(approval: Approval, offer: NonNullable<DecisionFormOptions['grant']>): SafeHtml {
  const durations = GRANT_DURATIONS.filter(
    (d) => (parseDuration(d) ?? Number.POSITIVE_INFINITY) <= offer.maxDurationMs,
  );
  if (durations.length === 0) durations.push(formatDuration(offer.maxDurationMs));
  const match = offer.tool
    ? html`<fieldset><legend>What</legend>
<label><input type="radio" name="grant_match" value="action" checked> Exactly this action</label>
<label><input type="radio" name="grant_match" value="tool"> Any call of ${offer.tool}</label></fieldset>`
    : '';
  return html`<details class="grant"><summary>Also allow this again</summary>
<p>With Approve, approve the same ${offer.tool ? 'request' : 'action'} from ${approval.requester ?? 'this requester'} again as you, at once, through the same gate. Revoke it any time under Grants.</p>
<label for="grant_uses">How many more times (at most ${offer.maxUses})</label>
<input id="grant_uses" name="grant_uses" type="number" min="1" max="${offer.maxUses}" inputmode="numeric">
<label for="grant_for">For</label>
<select id="grant_for" name="grant_for">${durations.map((d) => html`<option value="${d}">${d}</option>`)}</select>
${match}</details>`;
}

/** " Your approval counts toward Gate "tech"." when the reader is asked in named gates. */
function countsToward(approval: Approval, actor: string): string {
  const stages = describeStages(evaluateStages(approval), false);
  const gates = gatesOfReader(
    stages.find((s) => s.name === currentStage(approval)?.name),
    actor,
  );
  return gates.length > 0 ? ` Your approval counts toward ${gates.join(' and ')}.` : '';
}

/** Approve / reject with a comment. The preselected verdict is only highlighted: posting decides. */
export function decisionForm(approval: Approval, options: DecisionFormOptions): SafeHtml | '' {
  const stage = currentStage(approval);
  if (!stage) return '';
  const mark = (verdict: Verdict) => (options.preselect === verdict ? ' selected' : '');
  const needComment = approval.policy.requireRejectComment === true;
  return html`<form method="post" action="${options.action}" data-keep id="decide" aria-label="Decide">
${options.csrfToken ? html`<input type="hidden" name="_csrf" value="${options.csrfToken}">` : ''}
<h2>Your decision</h2>
<p>You are deciding as <strong>${options.actor}</strong> on stage “${stage.name}”.${countsToward(approval, options.actor)}${options.note ? html` ${options.note}` : ''}</p>
<label for="comment">Comment${needComment ? ' (required to reject)' : ' (optional)'}</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
${stage.type === 'human' ? inputFields(stage.inputs) : ''}
${options.grant ? grantFields(approval, options.grant) : ''}
<div class="actions">
<button class="approve${mark('approve')}" type="submit" name="verdict" value="approve"${options.preselect === 'approve' ? html` autofocus` : ''}>Approve</button>
<button class="reject${mark('reject')}" type="submit" name="verdict" value="reject"${options.preselect === 'reject' ? html` autofocus` : ''}>Reject</button>
</div></form>`;
}

/** The banner after a decision: what was recorded and where the approval stands now. */
export function decidedBanner(approval: Approval, verdict: Verdict): SafeHtml {
  const state =
    approval.status === 'pending'
      ? 'The request still waits for other approvers.'
      : `The request is now ${approval.status}.`;
  return banner(`Your ${verdict === 'approve' ? 'approval' : 'rejection'} is recorded. ${state}`, 'ok');
}

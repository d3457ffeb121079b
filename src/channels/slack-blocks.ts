import type { KnownBlock, PlainTextElement, View } from '@slack/web-api';
import {
  describeStages,
  formatUtc,
  requesterWords,
  stageLines,
  whatDecidingDoes,
} from '../core/approval-facts.js';
import { type InputField, type InputSchema, inputLabel } from '../core/inputs.js';
import type { Approval } from '../core/model.js';
import { adviceFor } from '../core/review.js';
import { seatLabel } from '../core/seat.js';
import { evaluateStages } from '../core/stages.js';
import { actionText, metadataText } from '../html.js';

/** Action ids of the buttons and the reject modal; interactions answer only these. */
export const SLACK_ACTIONS = {
  approve: 'signoff.approve',
  reject: 'signoff.reject',
  rejectView: 'signoff.reject-reason',
  approveView: 'signoff.approve-inputs',
} as const;

/** What a button or the reject modal carries: the approval and the stage, never a secret. */
export interface SlackTarget {
  readonly approvalId: string;
  readonly stage: string;
}

/**
 * Text from a request, made safe for Slack: `&`, `<` and `>` escaped as Slack asks (so no
 * `<!channel>` and no `<url|label>` link), and shown only in `plain_text` objects, which Slack
 * never reads as markup (`*bold*`, `_`, `~`, `` ` `` stay as typed).
 */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A plain_text object: Slack shows it as typed, with no mentions, links or formatting. */
function plain(text: string, max = 3000): PlainTextElement {
  return { type: 'plain_text', text: cut(escapeSlackText(text), max), emoji: false };
}

function section(text: string): KnownBlock {
  return { type: 'section', text: plain(text) };
}

/** Every stage and its gates, in the words every surface uses. */
function progressLines(approval: Approval): string[] {
  return describeStages(evaluateStages(approval), approval.status !== 'pending').flatMap(stageLines);
}

/**
 * The deadline in each reader's own time zone: Slack's date token, with the UTC time as the
 * fallback for clients that cannot render it. Our own text, so it can be mrkdwn.
 */
function deadlineContext(approval: Approval): KnownBlock {
  const epoch = Math.floor(approval.expiresAt.getTime() / 1000);
  return {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Decide by <!date^${epoch}^{date_short_pretty} at {time}|${formatUtc(approval.expiresAt)}>`,
      },
    ],
  };
}

const OUTCOMES = {
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
} as const;

/** The decisions people made, newest last, with their comments. */
function decisionLines(approval: Approval): string[] {
  return approval.decisions.map(
    (d) =>
      `${seatLabel(d)} ${d.verdict === 'approve' ? 'approved' : 'rejected'} stage ${d.stage} via ${d.via}${d.comment ? `: ${d.comment}` : ''}`,
  );
}

/** Whether the message of `stage` still asks for a decision. */
function asksForDecision(approval: Approval, stage: string): boolean {
  return (
    approval.status === 'pending' &&
    evaluateStages(approval).find((s) => s.name === stage)?.status === 'pending'
  );
}

function buttons(target: SlackTarget): KnownBlock {
  const value = JSON.stringify({ a: target.approvalId, s: target.stage });
  return {
    type: 'actions',
    block_id: 'signoff.decide',
    elements: [
      {
        type: 'button',
        action_id: SLACK_ACTIONS.approve,
        style: 'primary',
        text: plain('Approve'),
        value,
      },
      {
        type: 'button',
        action_id: SLACK_ACTIONS.reject,
        style: 'danger',
        text: plain('Reject'),
        value,
      },
    ],
  };
}

/** The outcome that replaces the buttons once this stage no longer waits. */
function outcomeText(approval: Approval, stage: string): string {
  if (approval.status !== 'pending')
    return `${OUTCOMES[approval.status]}.${approval.reason ? ` ${approval.reason}` : ''}`;
  const state = describeStages(evaluateStages(approval), false).find((s) => s.name === stage);
  return `${state ? `${state.heading} ${state.state}` : `Stage "${stage}" is gone`}; the approval goes on.`;
}

/**
 * The Block Kit message of one stage of an approval, as it stands now: title, requester,
 * description, metadata, progress, AI advice, deadline, and either the buttons or the outcome.
 */
export function renderSlackMessage(
  approval: Approval,
  stage: string,
): { text: string; blocks: KnownBlock[] } {
  const requester = requesterWords(approval.requester);
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(approval.title, 150) },
    { type: 'context', elements: [plain(`Requested by ${requester} · ${approval.id}`)] },
  ];
  if (approval.description) blocks.push(section(approval.description));
  if (approval.link) blocks.push(section(`Link: ${approval.link}`));
  const action = actionText(approval.action, 2500);
  if (action) blocks.push(section(`Action (a decision is for exactly this one):\n${action}`));
  const metadata = metadataText(approval.metadata);
  if (metadata) blocks.push(section(`Details:\n${metadata}`));
  blocks.push(section(progressLines(approval).join('\n')));
  const advice = adviceFor(approval);
  if (advice.length > 0) blocks.push(section(advice.join('\n')));
  const decided = decisionLines(approval);
  if (decided.length > 0) blocks.push(section(decided.join('\n')));
  if (asksForDecision(approval, stage)) {
    blocks.push(deadlineContext(approval));
    blocks.push({
      type: 'context',
      elements: [
        plain(
          `What deciding does: ${whatDecidingDoes({ callback: approval.callback, agent: approval.action !== null })}`,
        ),
      ],
    });
    blocks.push(buttons({ approvalId: approval.id, stage }));
  } else {
    blocks.push(section(outcomeText(approval, stage)));
  }
  const state = asksForDecision(approval, stage) ? 'Approval needed' : outcomeText(approval, stage);
  return { text: escapeSlackText(cut(`${state}: ${approval.title}`, 300)), blocks };
}

/** The modal that asks for the reason of a rejection; its submission decides. */
export function renderRejectModal(target: SlackTarget, title: string): View {
  return {
    type: 'modal',
    callback_id: SLACK_ACTIONS.rejectView,
    private_metadata: JSON.stringify({ a: target.approvalId, s: target.stage }),
    title: plain('Reject', 24),
    submit: plain('Reject', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(title),
      {
        type: 'input',
        block_id: 'reason',
        label: plain('Why do you reject it?'),
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 2000 },
      },
    ],
  };
}

/** One input of the stage as a Slack input block, `input.NAME`; optional, so signoff's own check speaks. */
function inputBlock(name: string, field: InputField, required: boolean): KnownBlock {
  const initial = field.default === undefined ? undefined : String(field.default);
  const element = (() => {
    if (field.type === 'boolean')
      return {
        type: 'checkboxes' as const,
        action_id: 'value',
        options: [{ text: plain('Yes'), value: 'true' }],
        ...(field.default === true && { initial_options: [{ text: plain('Yes'), value: 'true' }] }),
      };
    if (field.enum)
      return {
        type: 'static_select' as const,
        action_id: 'value',
        options: field.enum.slice(0, 100).map((option) => ({ text: plain(option, 75), value: option })),
        ...(initial !== undefined &&
          field.enum.includes(initial) && { initial_option: { text: plain(initial, 75), value: initial } }),
      };
    if (field.type === 'number' || field.type === 'integer')
      return {
        type: 'number_input' as const,
        action_id: 'value',
        is_decimal_allowed: field.type === 'number',
        ...(field.minimum !== undefined && { min_value: String(field.minimum) }),
        ...(field.maximum !== undefined && { max_value: String(field.maximum) }),
        ...(initial !== undefined && { initial_value: initial }),
      };
    if (field.format === 'date')
      return { type: 'datepicker' as const, action_id: 'value', ...(initial && { initial_date: initial }) };
    return {
      type: 'plain_text_input' as const,
      action_id: 'value',
      ...(field.maxLength !== undefined && { max_length: field.maxLength }),
      ...(initial !== undefined && { initial_value: initial }),
    };
  })();
  return {
    type: 'input',
    block_id: `input.${name}`,
    optional: true,
    label: plain(`${inputLabel(name, field)}${required ? ' (required to approve)' : ''}`, 2000),
    ...(field.description && { hint: plain(field.description, 2000) }),
    element,
  } as KnownBlock;
}

/** The modal that asks for the stage's inputs (and an optional comment); its submission approves. */
export function renderApproveModal(target: SlackTarget, title: string, inputs: InputSchema): View {
  return {
    type: 'modal',
    callback_id: SLACK_ACTIONS.approveView,
    private_metadata: JSON.stringify({ a: target.approvalId, s: target.stage }),
    title: plain('Approve', 24),
    submit: plain('Approve', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(title),
      ...Object.entries(inputs.properties).map(([name, field]) =>
        inputBlock(name, field, inputs.required?.includes(name) ?? false),
      ),
      {
        type: 'input',
        block_id: 'comment',
        optional: true,
        label: plain('Comment'),
        element: { type: 'plain_text_input', action_id: 'comment', multiline: true, max_length: 2000 },
      },
    ],
  };
}

/** Reads what a button or the modal carries; undefined when it is not signoff's. */
export function parseSlackTarget(value: string | undefined): SlackTarget | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as { a?: unknown; s?: unknown };
    if (typeof parsed.a !== 'string' || typeof parsed.s !== 'string') return undefined;
    if (!/^apr_[A-Za-z0-9]{1,60}$/.test(parsed.a) || parsed.s.length > 100) return undefined;
    return { approvalId: parsed.a, stage: parsed.s };
  } catch {
    return undefined;
  }
}

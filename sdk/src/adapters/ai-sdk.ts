/**
 * signoff for the Vercel AI SDK's tool execution approval (`ai` 6), without depending on it:
 * `needsApproval` for a tool, and `answerApprovalRequests`, which asks signoff about each
 * `tool-approval-request` of a result and answers with the `tool-approval-response` parts to send
 * back in a `tool` message.
 */
import { type AskOptions, askAboutToolCall, type Verdict } from '../ask.js';
import type { SignoffClient } from '../client.js';
import { frozenJsonCopy } from '../json-copy.js';
import { type GateOptions, needsPeople } from './shared.js';

/** What is read of a `tool-approval-request` content part. */
export interface ToolApprovalRequest {
  readonly type: 'tool-approval-request';
  readonly approvalId: string;
  readonly toolCall: { readonly toolCallId: string; readonly toolName: string; readonly input: unknown };
}

/** The `tool-approval-response` part the AI SDK reads in a `tool` message. */
export interface ToolApprovalResponse {
  type: 'tool-approval-response';
  approvalId: string;
  approved: boolean;
  reason?: string;
}

/**
 * A tool's `needsApproval`: true unless signoff's dry run says the policy's rules approve this
 * call at once. `tool({ …, needsApproval: needsApprovalFrom(signoff, { tool: 'deleteBranch', policy: 'agent' }) })`.
 */
export function needsApprovalFrom(
  signoff: SignoffClient,
  gate: GateOptions,
): (input: unknown, options?: { toolCallId?: string }) => Promise<boolean> {
  return (input) => needsPeople(signoff, gate, input);
}

export interface ApprovalAnswers {
  /** For `messages.push({ role: 'tool', content: responses })`; empty when nothing was decided. */
  readonly responses: ToolApprovalResponse[];
  /** Each request's verdict; those still pending after `waitMs` have no response yet. */
  readonly verdicts: { readonly request: ToolApprovalRequest; readonly verdict: Verdict }[];
}

/**
 * Asks signoff about every `tool-approval-request` among `content` (a result's `content`; the
 * tool call id is the idempotency key, so asking again waits on the same approval) and waits
 * for people, side by side. Approved only for an approval whose hash is the call's; a refusal
 * carries the reason the model reads; a request still pending after `waitMs` gets no response.
 */
export async function answerApprovalRequests(
  signoff: SignoffClient,
  content: readonly { readonly type: string }[],
  options: Omit<GateOptions, 'tool'> & Omit<AskOptions, 'idempotencyKey'> = {},
): Promise<ApprovalAnswers> {
  const requests = content.filter(
    (part): part is ToolApprovalRequest => part.type === 'tool-approval-request',
  );
  const verdicts = await Promise.all(
    requests.map(async (request) => {
      const { toolName, toolCallId, input } = request.toolCall;
      const verdict = await askAboutToolCall(signoff, toolName, frozenJsonCopy(input), {
        ...options,
        idempotencyKey: `ai-sdk:${toolCallId}`,
      });
      return { request, verdict };
    }),
  );
  const responses = verdicts.flatMap(({ request, verdict }): ToolApprovalResponse[] => {
    if (verdict.approved)
      return [{ type: 'tool-approval-response', approvalId: request.approvalId, approved: true }];
    if (verdict.code === 'not_decided') return [];
    return [
      {
        type: 'tool-approval-response',
        approvalId: request.approvalId,
        approved: false,
        reason: `signoff: ${verdict.reason}`,
      },
    ];
  });
  return { responses, verdicts };
}

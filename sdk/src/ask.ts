import { actionHash } from './canonical-json.js';
import type { SignoffClient } from './client.js';
import type { NotApprovedCode } from './errors.js';
import type { Approval, ApprovalRequest, JsonObject, JsonValue } from './types.js';

/** How to ask about a tool call: who decides, what people read, how long to wait. */
export interface AskOptions {
  /** A named policy of the server (its rules say which calls need people, and who). */
  readonly policy?: string;
  /** Or the people to ask, when no policy is named. */
  readonly approvers?: ApprovalRequest['approvers'];
  /** One line for people; by default the tool and the gist of its arguments. */
  readonly title?: string;
  readonly description?: string;
  readonly metadata?: ApprovalRequest['metadata'];
  /** How long the approval stays open, e.g. `1h` (the server's or policy's default otherwise). */
  readonly timeout?: string;
  /** How long to wait for people before giving up with `not_decided` (default 10 minutes). */
  readonly waitMs?: number;
  /** Asking again with the same key finds the same approval, so a restarted agent resumes its wait. */
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
  /** Told once the approval is asked for and waits for people: log where it waits, or tell someone. */
  readonly onAsked?: (approval: Approval) => void | Promise<void>;
}

/** Whether a tool call may run: approved for exactly these arguments, or why not. */
export type Verdict =
  | { readonly approved: true; readonly approval: Approval }
  | {
      readonly approved: false;
      readonly code: NotApprovedCode;
      /** For people and for the agent: who rejected and their comment, or what happened. */
      readonly reason: string;
      readonly approval: Approval;
    };

/**
 * Asks signoff about one tool call, `{tool, arguments}`, and waits for a decision. Approved
 * only when people (or the policy's rules) approved and the approved `actionHash` is the hash
 * of exactly these arguments. `args` should be a frozen copy (see frozenJsonCopy): it is what
 * is asked about, hashed and then run.
 */
export async function askAboutToolCall(
  signoff: SignoffClient,
  tool: string,
  args: JsonValue,
  options: AskOptions = {},
): Promise<Verdict> {
  const action = { tool, arguments: args };
  const asked = await signoff.createApproval(
    {
      title: options.title ?? toolCallTitle(tool, args),
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
      ...(options.approvers === undefined ? {} : { approvers: options.approvers }),
      ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      action,
    },
    { idempotencyKey: options.idempotencyKey, signal: options.signal },
  );
  let approval = asked;
  if (approval.status === 'pending') {
    await options.onAsked?.(approval);
    approval = await signoff.waitForDecision(asked.id, { timeoutMs: options.waitMs, signal: options.signal });
  }
  if (approval.status !== 'approved') return refused(approval);
  // Approved while its policy's change window was shut: the call waits for the window to open.
  const held = approval.resumesAt ? Date.parse(approval.resumesAt) - Date.now() : 0;
  if (held > 0) await new Promise((resolve) => setTimeout(resolve, held));
  // The approval is for one action: run that one only.
  if (approval.actionHash !== (await actionHash(action)))
    return {
      approved: false,
      code: 'action_mismatch',
      reason: `${approval.id} approved another action than this call: the arguments changed after approval`,
      approval,
    };
  return { approved: true, approval };
}

/** Why an approval that is not approved does not let the call run, in words the agent can act on. */
function refused(approval: Approval): Verdict {
  const { id, status } = approval;
  const why = approval.reason ? `: ${approval.reason}` : '';
  if (status === 'rejected') {
    const said = approval.decisions
      .filter((d) => d.verdict === 'reject')
      .map((d) => `${d.actor}${d.comment ? `: ${d.comment}` : ''}`);
    const by = said.length > 0 ? said.join('; ') : (approval.reason ?? 'no reason given');
    return { approved: false, code: 'rejected', reason: `${id} rejected (${by})`, approval };
  }
  if (status === 'expired')
    return {
      approved: false,
      code: 'expired',
      reason: `${id} expired before it was approved${why}`,
      approval,
    };
  if (status === 'cancelled')
    return { approved: false, code: 'cancelled', reason: `${id} was cancelled${why}`, approval };
  return {
    approved: false,
    code: 'not_decided',
    reason: `${id} is not decided yet; people decide in signoff (ask again with the same idempotency key to keep waiting)`,
    approval,
  };
}

/** One line for people: the tool and the gist of its arguments, at most 200 characters. */
export function toolCallTitle(tool: string, args: JsonValue): string {
  const input: { readonly [key: string]: JsonValue } =
    typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as JsonObject) : {};
  const gist = input.command ?? input.file_path ?? input.url ?? input.path ?? args;
  const line = `${tool}: ${typeof gist === 'string' ? gist : JSON.stringify(gist)}`.replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu,
    ' ',
  );
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

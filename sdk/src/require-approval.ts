import { type AskOptions, askAboutToolCall } from './ask.js';
import { actionHash } from './canonical-json.js';
import type { SignoffClient } from './client.js';
import { NotApprovedError } from './errors.js';
import { frozenJsonCopy } from './json-copy.js';

export interface RequireApprovalOptions extends Omit<AskOptions, 'idempotencyKey' | 'signal'> {
  readonly signoff: SignoffClient;
  /** The action's `tool`: what a policy's rules match on (`action.tool`). */
  readonly tool: string;
}

/** What one call may add: an idempotency key (e.g. the model's tool call id) and a signal to stop waiting. */
export interface GatedCallOptions {
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
}

/**
 * Gates `fn` behind signoff: each call asks for approval of `{tool, arguments: input}`, waits
 * for people, and runs `fn` only when that exact call was approved. `fn` gets a deep frozen
 * copy of `input` taken when asking, the value people approved, never the caller's object.
 * It throws NotApprovedError, and does not run `fn`, when the call was rejected (`reason` has who
 * and their comment), expired, was cancelled or not decided within `waitMs`, or when what was
 * approved is not this call: the approved hash differs from the copy's, or the caller changed
 * its arguments after asking (`action_mismatch`).
 */
export function requireApproval<I, R>(
  fn: (input: I) => R | Promise<R>,
  options: RequireApprovalOptions,
): (input: I, call?: GatedCallOptions) => Promise<R> {
  const { signoff, tool, ...ask } = options;
  return async (input, call = {}) => {
    const approved = frozenJsonCopy(input);
    const verdict = await askAboutToolCall(signoff, tool, approved, { ...ask, ...call });
    if (!verdict.approved) throw new NotApprovedError(verdict.code, verdict.approval, verdict.reason);
    // The caller's object changed while people decided: it means to run something else than
    // what they approved. Neither the old nor the new arguments run.
    if ((await hashOfCurrent(tool, input)) !== verdict.approval.actionHash)
      throw new NotApprovedError(
        'action_mismatch',
        verdict.approval,
        `${verdict.approval.id} was approved, but the arguments changed after approval`,
      );
    return fn(approved as I);
  };
}

/** The hash of the caller's arguments as they are now; undefined when they are no JSON any more. */
async function hashOfCurrent(tool: string, input: unknown): Promise<string | undefined> {
  try {
    return await actionHash({ tool, arguments: frozenJsonCopy(input) });
  } catch {
    return undefined;
  }
}

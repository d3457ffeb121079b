/**
 * signoff for the OpenAI Agents SDK (`@openai/agents`), without depending on it: `needsApproval`
 * for a tool, and `answerInterruptions`, which asks signoff about each tool call a run stopped
 * for and applies what people decided to the run's state. Resume with `run(agent, result.state)`.
 */
import { type AskOptions, askAboutToolCall, type Verdict } from '../ask.js';
import type { SignoffClient } from '../client.js';
import { frozenJsonCopy } from '../json-copy.js';
import { type GateOptions, needsPeople } from './shared.js';

/** What is read of the SDK's RunToolApprovalItem (a function tool's call). */
export interface ToolApprovalItem {
  readonly type: 'tool_approval_item';
  readonly rawItem: {
    readonly type?: string;
    readonly name?: string;
    readonly callId?: string;
    /** The call's arguments, as the model wrote them: a JSON string. */
    readonly arguments?: string;
  };
  readonly name?: string | undefined;
}

/** What is used of a RunResult that stopped for approvals. */
export interface InterruptedRun<Item extends ToolApprovalItem> {
  readonly interruptions: readonly Item[];
  readonly state: {
    approve(item: Item): void;
    reject(item: Item, options?: { message?: string }): void;
  };
}

/**
 * A tool's `needsApproval`: true unless signoff's dry run says the policy's rules approve this
 * call at once. `tool({ …, needsApproval: needsApprovalFrom(signoff, { tool: 'delete_branch', policy: 'agent' }) })`.
 */
export function needsApprovalFrom(
  signoff: SignoffClient,
  gate: GateOptions,
): (runContext: unknown, input: unknown, callId?: string) => Promise<boolean> {
  return (_runContext, input) => needsPeople(signoff, gate, input);
}

export interface InterruptionOutcome<Item> {
  readonly item: Item;
  /** `approved`: approved on the state; `refused`: rejected on it with the reason; `pending`: left for later. */
  readonly outcome: 'approved' | 'refused' | 'pending';
  readonly verdict: Verdict;
}

/**
 * Asks signoff about every tool call the run stopped for (the call id is the idempotency key,
 * so asking again waits on the same approval) and waits for people, side by side. An approved
 * call whose hash is the call's is approved on the state; a rejected, expired or cancelled one,
 * or one approved for other arguments, is rejected with the reason the model reads; one still
 * pending after `waitMs` is left as it is. The people decide; this only relays their answer.
 */
export async function answerInterruptions<Item extends ToolApprovalItem>(
  signoff: SignoffClient,
  run: InterruptedRun<Item>,
  options: Omit<GateOptions, 'tool'> & Omit<AskOptions, 'idempotencyKey'> = {},
): Promise<InterruptionOutcome<Item>[]> {
  return Promise.all(
    run.interruptions.map(async (item) => {
      const tool = item.name ?? item.rawItem.name ?? 'unknown';
      const args = frozenJsonCopy(JSON.parse(item.rawItem.arguments ?? '{}'));
      const callId = item.rawItem.callId;
      const verdict = await askAboutToolCall(signoff, tool, args, {
        ...options,
        ...(callId === undefined ? {} : { idempotencyKey: `openai-agents:${callId}` }),
      });
      if (verdict.approved) {
        run.state.approve(item);
        return { item, outcome: 'approved' as const, verdict };
      }
      if (verdict.code === 'not_decided') return { item, outcome: 'pending' as const, verdict };
      run.state.reject(item, { message: `signoff: ${verdict.reason}` });
      return { item, outcome: 'refused' as const, verdict };
    }),
  );
}

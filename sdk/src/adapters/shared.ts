import type { AskOptions } from '../ask.js';
import type { SignoffClient } from '../client.js';
import { frozenJsonCopy } from '../json-copy.js';

/** Which calls of a tool need people: the server's policy (or approvers) decides, never the agent. */
export interface GateOptions {
  /** The action's `tool`, as the policy's rules match it. */
  readonly tool: string;
  readonly policy?: string;
  readonly approvers?: AskOptions['approvers'];
}

/**
 * Whether a call needs people, by signoff's dry run: false only when the policy's rules would
 * approve it at once. Fails closed: when signoff cannot answer, the call needs approval (and
 * asking for it reports why).
 */
export async function needsPeople(
  signoff: SignoffClient,
  gate: GateOptions,
  input: unknown,
): Promise<boolean> {
  try {
    const action = { tool: gate.tool, arguments: frozenJsonCopy(input) };
    const check = await signoff.checkPolicy({
      title: `${gate.tool} (dry run)`,
      action,
      ...(gate.policy === undefined ? {} : { policy: gate.policy }),
      ...(gate.approvers === undefined ? {} : { approvers: gate.approvers }),
    });
    return check.outcome !== 'approved';
  } catch {
    return true;
  }
}

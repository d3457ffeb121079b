import { actionHash, toolCallTitle } from '../approvals/action.js';
import type { ApprovalView } from '../core/view.js';
import { ApiError, type Client } from './client.js';
import { waitForApproval } from './wait.js';

/** What Claude Code's PreToolUse hook gives on stdin (the fields signoff reads). */
interface PreToolUse {
  readonly hook_event_name?: unknown;
  readonly tool_name?: unknown;
  readonly tool_input?: unknown;
  readonly tool_use_id?: unknown;
  readonly session_id?: unknown;
}

type Decision = 'allow' | 'deny' | 'ask';

/** The hook's answer on stdout: Claude Code reads `hookSpecificOutput` and exit code 0. */
export function hookOutput(decision: Decision, reason: string) {
  return {
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: decision,
      permissionDecisionReason: `signoff: ${reason}`,
    },
  };
}

/** Who decided and what they said, for the reason Claude reads. */
function verdictReason(approval: ApprovalView): string {
  const said = approval.decisions
    .filter((d) => (approval.status === 'approved' ? d.verdict === 'approve' : d.verdict === 'reject'))
    .map((d) => `${d.actor}${d.comment ? `: ${d.comment}` : ''}`);
  const by = said.length > 0 ? said.join('; ') : (approval.reason ?? 'no reason given');
  return `${approval.id} ${approval.status} (${by})`;
}

/**
 * Asks signoff about one tool call Claude Code is about to make: a call the policy's rules
 * allow passes without an approval; any other waits (at most `waitMs`) for people to decide on
 * exactly that call. Fails closed: an error denies; only a wait that runs out answers `ask`.
 */
export async function answerPreToolUse(
  client: Client,
  stdin: string,
  options: { policy: string; waitMs: number; log: (line: string) => void },
): Promise<ReturnType<typeof hookOutput> | undefined> {
  let event: PreToolUse;
  try {
    event = JSON.parse(stdin) as PreToolUse;
  } catch {
    return hookOutput('deny', 'the hook input is not JSON; is this a PreToolUse hook?');
  }
  if (event.hook_event_name !== 'PreToolUse') return undefined;
  const tool = event.tool_name;
  const input = event.tool_input;
  if (typeof tool !== 'string' || typeof input !== 'object' || input === null || Array.isArray(input))
    return hookOutput('deny', 'the hook input has no tool_name and tool_input.');
  const action = { tool, arguments: input as Record<string, unknown> };
  const body = {
    title: toolCallTitle(tool, action.arguments),
    policy: options.policy,
    action,
    metadata: {
      agent: 'claude-code',
      ...(typeof event.session_id === 'string' ? { session: event.session_id.slice(0, 200) } : {}),
    },
  };
  try {
    const dryRun = await client.request<{ outcome: string; reason: string | null }>(
      'POST',
      '/v1/approvals/dry-run',
      { body },
    );
    if (dryRun.outcome === 'approved') return hookOutput('allow', dryRun.reason ?? 'allowed by policy');
    if (dryRun.outcome === 'rejected') return hookOutput('deny', dryRun.reason ?? 'refused by policy');
    const key = typeof event.tool_use_id === 'string' ? `claude-code:${event.tool_use_id}` : undefined;
    const created = await client.request<ApprovalView>('POST', '/v1/approvals', {
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
    options.log(`signoff: ${created.id} asks people about ${body.title}`);
    const approval =
      created.status === 'pending'
        ? (await waitForApproval(client, created.id, { timeoutMs: options.waitMs, log: options.log }))
            .approval
        : created;
    if (!approval) return hookOutput('ask', `${created.id} is not decided yet; people decide in signoff.`);
    if (approval.status !== 'approved') return hookOutput('deny', verdictReason(approval));
    // The approval is for the call as it was asked: run that one only.
    if (approval.actionHash !== actionHash(action))
      return hookOutput('deny', `${approval.id} approved another action than this call.`);
    return hookOutput('allow', verdictReason(approval));
  } catch (error) {
    const why = error instanceof ApiError ? `${error.message} (${error.code})` : String(error);
    return hookOutput('deny', `could not ask for approval: ${why}`);
  }
}

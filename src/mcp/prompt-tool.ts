import { Type } from '@sinclair/typebox';
import { actionHash, toolCallTitle } from '../approvals/action.js';
import { requestApprovalAs, waitAs } from '../approvals/as-principal.js';
import { SignoffError } from '../core/errors.js';
import { agentSummary, agentView } from './agent-view.js';
import { type AgentTool, MCP_WAIT_MS } from './tool.js';

const PromptInput = Type.Object(
  {
    tool_name: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'the tool Claude Code is about to call',
    }),
    input: Type.Record(Type.String(), Type.Unknown(), { description: 'its arguments' }),
    tool_use_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: true },
);

/**
 * Claude Code's permission prompt tool (`--permission-prompt-tool`): asks the endpoint's
 * policy about one tool call and answers allow, with the input unchanged, only when that exact
 * call was approved; deny, with what the people said, otherwise. It waits at most MCP_WAIT_MS;
 * a call still pending then is denied with where it waits, and asking again (the same
 * tool_use_id) waits on the same approval.
 */
export const promptTool: AgentTool<typeof PromptInput> = {
  name: 'approval_prompt',
  title: 'Permission prompt for Claude Code',
  description:
    "For Claude Code's --permission-prompt-tool: asks signoff's policy whether a tool call may run, and answers {behavior: allow|deny}. People decide when the policy's rules do not.",
  input: PromptInput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  permission: 'approvals:create',
  async run(args, { services, principal, policy, signal }) {
    if (!policy)
      throw new SignoffError(
        'invalid_input',
        'The permission prompt needs a policy: connect to /mcp?policy=NAME (or signoff mcp --policy NAME).',
      );
    const action = { tool: args.tool_name, arguments: args.input };
    const { approval: asked } = await requestApprovalAs(
      services,
      principal,
      {
        title: toolCallTitle(args.tool_name, args.input),
        policy,
        action,
        metadata: { agent: 'claude-code' },
      },
      args.tool_use_id && `claude-code:${args.tool_use_id}`,
    );
    const approval =
      asked.status === 'pending' ? await waitAs(services, principal, asked.id, MCP_WAIT_MS, signal) : asked;
    const view = agentView(approval, services.config.publicUrl);
    // The approval is for the call as it was asked: allow only that one, unchanged.
    const allowed = approval.status === 'approved' && approval.action?.hash === actionHash(action);
    const verdict = allowed
      ? { behavior: 'allow', updatedInput: args.input }
      : {
          behavior: 'deny',
          message:
            approval.status === 'pending'
              ? `Waiting for people to approve at ${view.url}; not decided yet. Ask again to keep waiting.`
              : agentSummary(view),
        };
    return { text: JSON.stringify(verdict), structured: { ...verdict, approval: view } };
  },
};

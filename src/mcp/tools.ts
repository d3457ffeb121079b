import { type Static, type TObject, Type } from '@sinclair/typebox';
import {
  cancelAs,
  listOwn,
  loadPermitted,
  previewApprovalAs,
  requestApprovalAs,
  waitAs,
} from '../approvals/as-principal.js';
import { CreateApprovalBody, type CreateApprovalRequest } from '../approvals/request.js';
import { hasPermission } from '../auth/principal.js';
import { SignoffError } from '../core/errors.js';
import { APPROVAL_STATUSES } from '../core/model.js';
import { currentStage, effectiveGates } from '../core/stages.js';
import { SINGLE_LINE } from '../input-rules.js';
import { compileOnFirstUse, type Validator } from '../validation.js';
import { agentSummary, agentView } from './agent-view.js';
import { promptTool } from './prompt-tool.js';
import { type AgentTool, MCP_WAIT_MS, type ToolContext, type ToolResult } from './tool.js';

const Id = Type.String({
  minLength: 1,
  maxLength: 64,
  format: SINGLE_LINE,
  description: 'the approval id, apr_…',
});
const body = CreateApprovalBody.properties;

/** What an agent may ask with. No callback and no inline stages: it waits through these tools. */
const AskInput = Type.Object(
  {
    title: body.title,
    description: body.description,
    action: body.action,
    metadata: body.metadata,
    link: body.link,
    approvers: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 320 }), {
        minItems: 1,
        maxItems: 50,
        description: 'who decides (emails, group:NAME); leave out to use the named policy',
      }),
    ),
    required: body.required,
    policy: body.policy,
    timeout: body.timeout,
  },
  { additionalProperties: false },
);
const RequestInput = Type.Object(
  {
    ...AskInput.properties,
    idempotencyKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        format: SINGLE_LINE,
        description: 'the same key returns the same approval; with other arguments it is refused',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The create request an agent's ask stands for: the endpoint's policy when it names no approvers. */
export function askToRequest(
  args: Static<typeof AskInput>,
  policy: string | undefined,
): CreateApprovalRequest {
  const { approvers, policy: named, ...rest } = args;
  const chosen = approvers ? { approvers } : { policy: named ?? policy };
  if (!approvers && !chosen.policy)
    throw new SignoffError(
      'invalid_input',
      'Name approvers or a policy: this endpoint has no policy of its own (/mcp?policy=NAME).',
    );
  return { ...rest, ...chosen, notify: ['email'] };
}

const requestApproval: AgentTool<typeof RequestInput> = {
  name: 'request_approval',
  title: 'Ask people to approve an action',
  description:
    'Asks for an approval before you do something risky, and answers at once (it never waits for people): the approval id, its status, the page where people decide, and the hash of the action. Put what you are about to do in `action` ({"tool": NAME, "arguments": {...}}): the decision is for exactly that action. Rules may decide at once (status approved or rejected); otherwise call wait_for_decision. Never act before the status is approved.',
  input: RequestInput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  permission: 'approvals:create',
  async run(args, { services, principal, policy }) {
    const { idempotencyKey, ...ask } = args;
    const request = askToRequest(ask, policy);
    checkRequest(request);
    const { approval } = await requestApprovalAs(services, principal, request, idempotencyKey);
    return answer(agentView(approval, services.config.publicUrl));
  },
};

const checkPolicy: AgentTool<typeof AskInput> = {
  name: 'check_policy',
  title: 'Check whether an action needs people',
  description:
    'A dry run of request_approval: says whether rules would approve or reject such a request at once (and why), or who would be asked. Creates nothing and tells nobody.',
  input: AskInput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  permission: 'approvals:create',
  async run(args, { services, principal, policy }) {
    const request = askToRequest(args, policy);
    checkRequest(request);
    const approval = await previewApprovalAs(services, principal, request);
    const stage = currentStage(approval);
    const outcome = approval.status === 'pending' ? 'needs_review' : approval.status;
    const asked =
      stage?.type === 'human' ? effectiveGates(approval, stage).flatMap((gate) => gate.approvers) : [];
    const text =
      outcome === 'needs_review'
        ? `People would be asked${asked.length > 0 ? ` (${asked.join(', ')})` : ''}: call request_approval and wait.`
        : `Rules would ${outcome === 'approved' ? 'approve' : 'reject'} it at once: ${approval.reason}.`;
    return {
      text,
      structured: {
        outcome,
        reason: approval.status === 'pending' ? null : approval.reason,
        stage: stage?.name ?? null,
        approvers: asked,
        actionHash: approval.action?.hash ?? null,
      },
    };
  },
};

const IdInput = Type.Object({ id: Id }, { additionalProperties: false });

const getApproval: AgentTool<typeof IdInput> = {
  name: 'get_approval',
  title: 'Read an approval',
  description: 'Where an approval stands now: its status, who decided and what they said.',
  input: IdInput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  permission: 'approvals:read',
  async run(args, { services, principal }) {
    const approval = await loadPermitted(services, principal, 'approvals:read', args.id);
    return answer(agentView(approval, services.config.publicUrl));
  },
};

const WaitInput = Type.Object(
  {
    id: Id,
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MCP_WAIT_MS / 1000,
        description: `how long to wait at most (default and most: ${MCP_WAIT_MS / 1000})`,
      }),
    ),
  },
  { additionalProperties: false },
);

const waitForDecision: AgentTool<typeof WaitInput> = {
  name: 'wait_for_decision',
  title: 'Wait for people to decide',
  description: `Waits until the approval is decided, or at most ${MCP_WAIT_MS / 1000} s, and answers its state then. Still pending: call it again. Approved: you may take exactly the action whose hash it gives. Rejected: do not; the deciders' comments say why.`,
  input: WaitInput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  permission: 'approvals:read',
  async run(args, { services, principal, signal }) {
    const ms = (args.timeoutSeconds ?? MCP_WAIT_MS / 1000) * 1000;
    const approval = await waitAs(services, principal, args.id, ms, signal);
    return answer(agentView(approval, services.config.publicUrl));
  },
};

const CancelInput = Type.Object(
  { id: Id, reason: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);

const cancelApproval: AgentTool<typeof CancelInput> = {
  name: 'cancel_approval',
  title: 'Call off an approval you asked for',
  description:
    'Cancels a pending approval this credential asked for (you no longer need it). Its people are no longer asked.',
  input: CancelInput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  permission: 'approvals:create',
  async run(args, { services, principal }) {
    const approval = await cancelAs(services, principal, args.id, args.reason);
    return answer(agentView(approval, services.config.publicUrl));
  },
};

const ListInput = Type.Object(
  {
    status: Type.Optional(
      Type.Unsafe<(typeof APPROVAL_STATUSES)[number]>({ type: 'string', enum: [...APPROVAL_STATUSES] }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 64, format: SINGLE_LINE })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  },
  { additionalProperties: false },
);

const listMyApprovals: AgentTool<typeof ListInput> = {
  name: 'list_my_approvals',
  title: 'List the approvals you asked for',
  description:
    'The approvals this credential asked for, newest first (20 by default), optionally of one status.',
  input: ListInput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  permission: 'approvals:read',
  async run(args, { services, principal }) {
    const page = await listOwn(services, principal, {
      status: args.status,
      cursor: args.cursor,
      limit: args.limit ?? 20,
    });
    const items = page.items.map((a) => agentView(a, services.config.publicUrl));
    const text =
      items.length === 0 ? 'No approvals.' : items.map((v) => `${v.id} ${v.status}: ${v.title}`).join('\n');
    return { text, structured: { items, nextCursor: page.nextCursor } };
  },
};

/** Every tool an agent has. None decides: an agent asks, reads and waits; people decide. */
export const AGENT_TOOLS: readonly AgentTool[] = [
  requestApproval,
  getApproval,
  waitForDecision,
  cancelApproval,
  listMyApprovals,
  checkPolicy,
  promptTool,
] as unknown as readonly AgentTool[];

const createValidator = compileOnFirstUse(CreateApprovalBody);

/** Refuses a request the API's own schema refuses (the tool schemas take its fields, this checks them together). */
function checkRequest(request: CreateApprovalRequest): void {
  if (!createValidator(request)) throw invalid(createValidator);
}

function invalid(validate: Validator<unknown>): SignoffError {
  const issues = (validate.errors ?? []).map((e) => ({
    path: e.instancePath || '/',
    message: e.message ?? 'is not valid',
  }));
  const first = issues[0];
  return new SignoffError(
    'invalid_input',
    first ? `${first.path} ${first.message}` : 'The arguments are not valid.',
    {
      details: { issues },
    },
  );
}

const validators = new Map(AGENT_TOOLS.map((tool) => [tool.name, compileOnFirstUse(tool.input)]));

/** Runs a tool as the caller: its permission, its arguments checked against its schema. */
export async function runTool(name: string, args: unknown, context: ToolContext): Promise<ToolResult> {
  const tool = AGENT_TOOLS.find((t) => t.name === name);
  const validate = validators.get(name);
  if (!tool || !validate) throw new SignoffError('not_found', `There is no tool ${name}.`);
  if (!hasPermission(context.principal, tool.permission))
    throw new SignoffError(
      'forbidden',
      `This credential lacks the ${tool.permission} permission that ${name} needs.`,
    );
  const input = args ?? {};
  if (!validate(input)) throw invalid(validate);
  return tool.run(input as Static<TObject>, context);
}

function answer(view: ReturnType<typeof agentView>): ToolResult {
  return { text: agentSummary(view), structured: view };
}

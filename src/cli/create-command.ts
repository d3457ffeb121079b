import { type Command, InvalidArgumentError } from 'commander';
import type { ApprovalView } from '../core/view.js';
import { type CommandContext, collect, duration } from './command-context.js';
import { waitForApproval } from './wait.js';

/** `signoff create`'s options, as commander hands them over. */
interface CreateOptions {
  readonly title: string;
  readonly description?: string;
  readonly link?: string;
  readonly approver: string[];
  readonly required?: number;
  readonly policy?: string;
  readonly requester?: string;
  readonly metadata?: string;
  readonly timeout?: number;
  readonly idempotencyKey?: string;
  readonly wait?: boolean;
  readonly json?: boolean;
}

/** The create request's body, from the options; refuses approvers and a policy together, or neither. */
function createBody(options: CreateOptions) {
  if ((options.approver.length === 0) === !options.policy)
    throw new InvalidArgumentError('give at least one --approver, or a --policy (not both)');
  let metadata: unknown;
  if (options.metadata) {
    try {
      metadata = JSON.parse(options.metadata);
    } catch {
      throw new InvalidArgumentError('--metadata must be a JSON object');
    }
  }
  return {
    title: options.title,
    description: options.description,
    link: options.link,
    approvers: options.policy ? undefined : options.approver,
    required: options.required,
    policy: options.policy,
    requester: options.requester,
    metadata,
    timeout: options.timeout === undefined ? undefined : Math.ceil(options.timeout / 1000),
  };
}

/** What the log says once it is created: whom it waits for, or how rules already ended it. */
function createdLine(approval: ApprovalView): string {
  const waiting = approval.stages.find((s) => s.status === 'pending');
  const on = waiting?.gates.length
    ? waiting.gates.map((g) => g.approvers.join(', ')).join('; ')
    : (waiting?.name ?? approval.status);
  return `created ${approval.id}: ${approval.status === 'pending' ? `waiting for ${on}` : approval.status}`;
}

/** `signoff create`: ask for an approval, and with --wait wait for its decision. */
export function registerCreateCommand(
  program: Command,
  { client, out, examples, exit }: CommandContext,
): void {
  program
    .command('create')
    .description('ask for an approval; prints its id (or, with --json, the approval) on stdout')
    .requiredOption('-t, --title <title>', 'what needs approval')
    .option('-d, --description <text>', 'more detail')
    .option('-l, --link <url>', 'where approvers can look (a diff, a staging site)')
    .option('-a, --approver <email>', 'an approver (repeatable)', collect, [])
    .option('-r, --required <n>', 'how many approvers must approve', (v) => Number.parseInt(v, 10))
    .option('-p, --policy <name>', "a named policy from the server's policies file, instead of --approver")
    .option('--requester <email>', 'who asks (defaults to the credential)')
    .option('--metadata <json>', 'JSON object with details for approvers and rules')
    .option('--timeout <duration>', 'how long to wait before the approval expires', duration)
    .option('--idempotency-key <key>', 'repeat-safe creation key')
    .option('-w, --wait', 'wait for the decision; the exit code tells it')
    .option('--json', 'print the approval as JSON (the decided one, with --wait)')
    .addHelpText(
      'after',
      examples(
        'signoff create -t "Deploy v2 to production" -a lead@example.com -a pm@example.com -r 1',
        'signoff create -t "Migrate orders" --policy production --metadata \'{"service":"orders"}\' --wait',
      ),
    )
    .action(async (options: CreateOptions) => {
      const body = createBody(options);
      const headers: Record<string, string> = options.idempotencyKey
        ? { 'idempotency-key': options.idempotencyKey }
        : {};
      const approval = await client.request<ApprovalView>('POST', '/v1/approvals', { body, headers });
      out.log(createdLine(approval));
      if (!options.wait) {
        out.print(options.json ? approval : approval.id);
        return;
      }
      if (!options.json) out.print(approval.id);
      const timeoutMs = new Date(approval.expiresAt).getTime() - Date.now() + 60_000;
      const result = await waitForApproval(client, approval.id, { timeoutMs, log: out.log });
      if (options.json) out.print(result.approval ?? approval);
      exit(result.code);
    });
}

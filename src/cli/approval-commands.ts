import { type Command, InvalidArgumentError } from 'commander';
import { describeStages, formatUtc, requesterWords, stageSentence } from '../core/approval-facts.js';
import { formatDuration } from '../core/duration.js';
import type { ApprovalView } from '../core/view.js';
import { ApiError } from './client.js';
import { type CommandContext, duration } from './command-context.js';
import { registerCreateCommand } from './create-command.js';
import { grantOption } from './grant-commands.js';
import { formatTable } from './output.js';
import { EXIT, waitForApproval } from './wait.js';

function summary(approval: ApprovalView): string {
  return `${approval.id}  ${approval.status.padEnd(9)}  ${approval.title}`;
}

/** How long ago, for people: `5m`, `2h 3m`, `3d`. */
function age(iso: string, now: number): string {
  return formatDuration(now - new Date(iso).getTime());
}

/** A table of approvals with a header row, columns padded to their widest cell. */
function approvalTable(items: readonly ApprovalView[], now = Date.now()): string {
  return formatTable([
    ['ID', 'STATUS', 'AGE', 'REQUESTER', 'TITLE'],
    ...items.map((a) => [a.id, a.status, age(a.createdAt, now), a.requester ?? '-', a.title]),
  ]);
}

/** An approval for people: what, who asked, where it stands, who decided. */
function approvalDetails(a: ApprovalView): string {
  const lines = [
    `${a.id}  ${a.status}  ${a.title}`,
    `requested by ${requesterWords(a.requester)} at ${formatUtc(new Date(a.createdAt))}; decide by ${formatUtc(new Date(a.expiresAt))}`,
  ];
  if (a.link) lines.push(`link: ${a.link}`);
  lines.push(...describeStages(a.stages, a.status !== 'pending').map(stageSentence));
  for (const d of a.decisions) lines.push(`${d.actor} ${d.verdict}d${d.comment ? `: ${d.comment}` : ''}`);
  if (a.reason) lines.push(`reason: ${a.reason}`);
  return lines.join('\n');
}

/** `signoff wait`: wait for a decision, showing who is still needed. */
function registerWaitCommand(program: Command, { client, out, examples, exit }: CommandContext): void {
  program
    .command('wait <id>')
    .description('wait for a decision, showing who is still needed; the exit code tells the outcome')
    .option('--timeout <duration>', 'give up (exit 3) after this long', duration)
    .option('--json', 'print the decided approval as JSON on stdout')
    .addHelpText(
      'after',
      examples('signoff wait apr_01J9Z8... && ./deploy.sh', 'signoff wait apr_01J9Z8... --timeout 2h --json'),
    )
    .action(async (id: string, options: { timeout?: number; json?: boolean }) => {
      const result = await waitForApproval(client, id, {
        timeoutMs: options.timeout ?? 31 * 86_400_000,
        log: out.log,
      });
      if (options.json && result.approval) out.print(result.approval);
      exit(result.code);
    });
}

/** `signoff get`: one approval, for people or as JSON. */
function registerGetCommand(program: Command, { client, out, examples }: CommandContext): void {
  program
    .command('get <id>')
    .description('show an approval')
    .option('--json', 'print it as JSON')
    .addHelpText(
      'after',
      examples('signoff get apr_01J9Z8...', 'signoff get apr_01J9Z8... --json | jq .status'),
    )
    .action(async (id: string, options: { json?: boolean }) => {
      const approval = await client.request<ApprovalView>('GET', `/v1/approvals/${encodeURIComponent(id)}`);
      out.print(options.json ? approval : approvalDetails(approval));
    });
}

/** `signoff ls`: approvals, newest first, or only the caller's own. */
function registerListCommand(program: Command, { client, out, examples }: CommandContext): void {
  program
    .command('ls')
    .description('list approvals, newest first')
    .option('-s, --status <status>', 'pending, approved, rejected, expired or cancelled')
    .option('--limit <n>', 'how many', '20')
    .option('--mine', "only what SIGNOFF_TOKEN's identity asked for")
    .option('--waiting-for-me', "only what waits for SIGNOFF_TOKEN's identity to decide")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples('signoff ls', 'signoff ls --waiting-for-me', 'signoff ls --status pending --limit 50 --json'),
    )
    .action(
      async (options: {
        status?: string;
        limit: string;
        mine?: boolean;
        waitingForMe?: boolean;
        json?: boolean;
      }) => {
        const query = new URLSearchParams({ limit: options.limit });
        if (options.status) query.set('status', options.status);
        if (options.mine) query.set('requested_by', 'me');
        if (options.waitingForMe) query.set('waiting_for', 'me');
        const page = await client.request<{ items: ApprovalView[] }>('GET', `/v1/approvals?${query}`);
        if (options.json) out.print(page);
        else out.print(page.items.length ? approvalTable(page.items) : '(none)');
      },
    );
}

/**
 * Decides each approval on its own: one refused leaves the others decided, and is told. A
 * single id's refusal is the command's error. Resolves with how many were refused.
 */
async function decideEach(
  { client, out }: Pick<CommandContext, 'client' | 'out'>,
  ids: readonly string[],
  body: Record<string, unknown>,
): Promise<number> {
  let refused = 0;
  for (const id of new Set(ids)) {
    try {
      const approval = await client.request<ApprovalView>(
        'POST',
        `/v1/approvals/${encodeURIComponent(id)}/decisions`,
        { body },
      );
      out.print(summary(approval));
    } catch (error) {
      if (!(error instanceof ApiError) || ids.length === 1) throw error;
      refused++;
      out.log(`error: ${id}: ${error.message} (${error.code})`);
    }
  }
  return refused;
}

/** `signoff approve` and `reject`: decide one or several, as the identity of SIGNOFF_TOKEN. */
function registerDecideCommands(program: Command, { client, out, examples, exit }: CommandContext): void {
  for (const verdict of ['approve', 'reject'] as const) {
    const command = program
      .command(`${verdict} <ids...>`)
      .description(
        `${verdict} as the identity of SIGNOFF_TOKEN; several ids are decided one by one, and each refusal is told`,
      )
      .option('-c, --comment <text>', 'why');
    if (verdict === 'approve')
      command
        .option(
          '--grant-uses <n>',
          'also approve the same action again, for the same requester, this many times',
        )
        .option('--grant-for <duration>', 'for how long the grant lasts, e.g. 30m or 8h')
        .option(
          '--grant-match <action|tool>',
          'action (default): the exact action; tool: any call of the same tool',
        );
    command
      .addHelpText(
        'after',
        examples(
          `signoff ${verdict} apr_01J9Z8... --comment "checked the diff"`,
          `signoff ${verdict} apr_01J9Z8... apr_01J9Z9... apr_01J9ZA... --comment "the morning's batch"`,
          ...(verdict === 'approve' ? ['signoff approve apr_01J9Z8... --grant-uses 3 --grant-for 1h'] : []),
        ),
      )
      .action(
        async (
          ids: string[],
          options: { comment?: string; grantUses?: string; grantFor?: string; grantMatch?: string },
        ) => {
          const grant = grantOption(options);
          if (grant && ids.length > 1)
            throw new InvalidArgumentError('a standing grant goes with one approval: give one id');
          const body = { verdict, comment: options.comment, ...(grant && { grant }) };
          const refused = await decideEach({ client, out }, ids, body);
          if (refused > 0) exit(EXIT.error);
        },
      );
  }
}

/** `signoff cancel`: call a pending approval off; its callback is told. */
function registerCancelCommand(program: Command, { client, out, examples }: CommandContext): void {
  program
    .command('cancel <id>')
    .description('cancel a pending approval; its callback is told')
    .option('--reason <text>', 'why')
    .addHelpText('after', examples('signoff cancel apr_01J9Z8... --reason "superseded by v3"'))
    .action(async (id: string, options: { reason?: string }) => {
      const approval = await client.request<ApprovalView>(
        'POST',
        `/v1/approvals/${encodeURIComponent(id)}/cancel`,
        { body: { reason: options.reason } },
      );
      out.print(summary(approval));
    });
}

/** The API's client commands: ask, wait, read, list, decide and cancel. */
export function registerApprovalCommands(program: Command, context: CommandContext): void {
  registerCreateCommand(program, context);
  registerWaitCommand(program, context);
  registerGetCommand(program, context);
  registerListCommand(program, context);
  registerDecideCommands(program, context);
  registerCancelCommand(program, context);
}

import { type Command, InvalidArgumentError } from 'commander';
import type { ApprovalView } from '../core/view.js';
import type { CommandContext } from './command-context.js';
import { formatTable } from './output.js';

/** An after-review as the API answers it (GET /v1/break-glass). */
interface ReviewView {
  readonly approvalId: string;
  readonly brokenBy: string;
  readonly reason: string;
  readonly dueAt: string;
  readonly status: 'open' | 'confirmed' | 'flagged';
  readonly overdue: boolean;
  readonly reviewedBy: string | null;
}

function reviewTable(items: readonly ReviewView[]): string {
  return formatTable([
    ['APPROVAL', 'STATUS', 'DUE', 'BROKEN BY', 'REVIEWED BY', 'REASON'],
    ...items.map((r) => [
      r.approvalId,
      r.overdue ? 'OVERDUE' : r.status,
      r.dueAt,
      r.brokenBy,
      r.reviewedBy ?? '-',
      r.reason.length > 60 ? `${r.reason.slice(0, 59)}…` : r.reason,
    ]),
  ]);
}

/** `signoff break-glass ID --reason`, and its after-review: `review` and `list`. */
export function registerBreakGlassCommands(program: Command, context: CommandContext): void {
  const { client, out, examples } = context;
  const glass = program
    .command('break-glass')
    .description('approve at once in an emergency (needs approvals:break-glass), and review it afterwards')
    .argument('[id]', 'the approval to approve at once')
    .option('--reason <text>', 'why it cannot wait for the gate (required)')
    .addHelpText(
      'after',
      examples(
        'signoff break-glass apr_01J9Z8... --reason "outage: rollback cannot wait"',
        'signoff break-glass list --overdue',
        'signoff break-glass review apr_01J9Z8... --confirm',
      ),
    )
    .action(async (id: string | undefined, options: { reason?: string }) => {
      if (!id) throw new InvalidArgumentError('name the approval: signoff break-glass ID --reason "…"');
      if (!options.reason?.trim()) throw new InvalidArgumentError('breaking the glass needs --reason');
      const approval = await client.request<ApprovalView>(
        'POST',
        `/v1/approvals/${encodeURIComponent(id)}/break-glass`,
        { body: { reason: options.reason } },
      );
      out.print(
        `${approval.id} approved by break-glass; its review is due ${approval.breakGlass?.reviewDueAt ?? '?'}`,
      );
    });
  glass
    .command('review <id>')
    .description('confirm or flag a break-glass you were skipped by')
    .option('--confirm', 'it was right to break the glass')
    .option('--flag', 'it should not have happened')
    .option('--comment <text>', 'what you found')
    .action(async (id: string, options: { confirm?: boolean; flag?: boolean; comment?: string }) => {
      if (Boolean(options.confirm) === Boolean(options.flag))
        throw new InvalidArgumentError('say one of --confirm or --flag');
      const review = await client.request<ReviewView>(
        'POST',
        `/v1/approvals/${encodeURIComponent(id)}/break-glass/review`,
        { body: { verdict: options.confirm ? 'confirm' : 'flag', comment: options.comment } },
      );
      out.print(`${review.approvalId}: break-glass ${review.status}`);
    });
  glass
    .command('list')
    .description('after-reviews of break-glass (every one for a reader of all approvals, else yours)')
    .option('--overdue', 'only open reviews past their deadline')
    .option('--json', 'print JSON')
    .action(async (options: { overdue?: boolean; json?: boolean }) => {
      const page = await client.request<{ items: ReviewView[] }>(
        'GET',
        `/v1/break-glass${options.overdue ? '?overdue=true' : ''}`,
      );
      if (options.json) out.print(page);
      else out.print(page.items.length ? reviewTable(page.items) : '(none)');
    });
}

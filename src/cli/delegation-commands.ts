import type { Command } from 'commander';
import type { CommandContext } from './command-context.js';
import { formatTable } from './output.js';

interface DelegationView {
  readonly id: string;
  readonly delegator: string;
  readonly delegate: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly endedAt: string | null;
}

/** `signoff delegate --to C --until T`, and `signoff delegations list | end ID`. */
export function registerDelegationCommands(program: Command, context: CommandContext): void {
  const { client, out, examples } = context;
  program
    .command('delegate')
    .description("while you are away, someone decides in your place (as SIGNOFF_TOKEN's identity)")
    .requiredOption('--to <email>', 'who decides in your place')
    .requiredOption('--until <time>', 'when it ends, like 2026-12-24T09:00:00Z')
    .option('--from <time>', 'when it starts (now if not given)')
    .option('--reason <text>', 'why, for the record')
    .addHelpText(
      'after',
      examples('signoff delegate --to pm@example.com --until 2026-12-31T09:00:00Z --reason "on leave"'),
    )
    .action(async (options: { to: string; until: string; from?: string; reason?: string }) => {
      const made = await client.request<DelegationView>('POST', '/v1/delegations', { body: options });
      out.print(
        `${made.id}: ${made.delegate} decides for ${made.delegator} from ${made.startsAt} until ${made.endsAt}`,
      );
    });
  const delegations = program
    .command('delegations')
    .description('delegations you made or were given (list, end)');
  delegations
    .command('list')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const page = await client.request<{ items: DelegationView[] }>('GET', '/v1/delegations');
      if (options.json) out.print(page);
      else
        out.print(
          page.items.length
            ? formatTable([
                ['ID', 'FROM', 'TO', 'STARTS', 'ENDS', 'ENDED'],
                ...page.items.map((d) => [
                  d.id,
                  d.delegator,
                  d.delegate,
                  d.startsAt,
                  d.endsAt,
                  d.endedAt ?? '-',
                ]),
              ])
            : '(none)',
        );
    });
  delegations.command('end <id>').action(async (id: string) => {
    const ended = await client.request<DelegationView>(
      'POST',
      `/v1/delegations/${encodeURIComponent(id)}/end`,
    );
    out.print(`${ended.id} ended`);
  });
}

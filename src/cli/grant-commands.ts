import { type Command, InvalidArgumentError } from 'commander';
import type { CommandContext } from './command-context.js';
import { formatTable } from './output.js';

/** A standing grant as the API answers it (GET /v1/grants). */
interface GrantView {
  readonly id: string;
  readonly approvalId: string;
  readonly granter: string;
  readonly requester: string | null;
  readonly match: 'action' | 'tool';
  readonly tool: string | null;
  readonly actionHash: string | null;
  readonly uses: number;
  readonly maxUses: number;
  readonly expiresAt: string;
  readonly active: boolean;
}

function grantTable(items: readonly GrantView[]): string {
  return formatTable([
    ['ID', 'ACTIVE', 'USES', 'EXPIRES', 'GRANTER', 'REQUESTER', 'ALLOWS'],
    ...items.map((g) => [
      g.id,
      g.active ? 'yes' : 'no',
      `${g.uses}/${g.maxUses}`,
      g.expiresAt,
      g.granter,
      g.requester ?? '-',
      g.match === 'tool' ? `any ${g.tool} call` : `${g.actionHash?.slice(0, 19)}…`,
    ]),
  ]);
}

/** The `grant` part of a decision body from `approve`'s options, or undefined without them. */
export function grantOption(options: {
  grantUses?: string;
  grantFor?: string;
  grantMatch?: string;
}): { uses: number; for: string; match?: string } | undefined {
  const { grantUses, grantFor, grantMatch } = options;
  if (grantUses === undefined && grantFor === undefined && grantMatch === undefined) return undefined;
  if (grantUses === undefined || grantFor === undefined)
    throw new InvalidArgumentError('a standing grant needs both --grant-uses and --grant-for');
  const uses = Number(grantUses);
  if (!Number.isInteger(uses) || uses < 1)
    throw new InvalidArgumentError('--grant-uses must be a whole number, 1 or more');
  return { uses, for: grantFor, ...(grantMatch && { match: grantMatch }) };
}

/** `signoff grants list` and `signoff grants revoke`. */
export function registerGrantCommands(program: Command, context: CommandContext): void {
  const { client, out, examples } = context;
  const grants = program
    .command('grants')
    .description('standing grants: approvals that allow the same action again (list, revoke)');
  grants
    .command('list')
    .description("the grants SIGNOFF_TOKEN's identity made or that are for its requests (all, for an admin)")
    .option('--json', 'print JSON')
    .addHelpText('after', examples('signoff grants list', 'signoff grants list --json | jq ".items[].id"'))
    .action(async (options: { json?: boolean }) => {
      const page = await client.request<{ items: GrantView[] }>('GET', '/v1/grants');
      if (options.json) out.print(page);
      else out.print(page.items.length ? grantTable(page.items) : '(none)');
    });
  grants
    .command('revoke <id>')
    .description('end a grant at once (its granter, its requester or an admin)')
    .addHelpText('after', examples('signoff grants revoke grt_01J9Z8...'))
    .action(async (id: string) => {
      const grant = await client.request<GrantView>('POST', `/v1/grants/${encodeURIComponent(id)}/revoke`);
      out.print(`${grant.id} revoked: ${grant.uses} of ${grant.maxUses} uses were made`);
    });
}

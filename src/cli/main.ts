import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PERMISSIONS } from '../auth/principal.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import type { ApprovalView } from '../core/view.js';
import { registerAgentCommands } from './agent-commands.js';
import { ApiError, createClient } from './client.js';
import { grantOption, registerGrantCommands } from './grant-commands.js';
import { formatTable, type Output, STANDARD_OUTPUT } from './output.js';
import { EXIT, waitForApproval } from './wait.js';

// Client commands load only the HTTP client: the server, the database drivers and the mailer are
// imported by the commands that need them (serve, migrate, keys, audit, check).

const EXIT_CODES_HELP = `
Exit codes:
  0  approved (or the command succeeded)
  1  rejected (audit verify: a chain is broken; check: a problem was found)
  2  expired or cancelled
  3  anything else: usage errors, refused or failed requests, an unreachable server`;

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError('use a duration such as 90s, 15m, 1h or 7d');
  return ms;
}

/** An ISO time, or a duration meaning that long ago. */
function since(value: string): Date {
  const ago = parseDuration(value);
  if (ago !== undefined) return new Date(Date.now() - ago);
  const time = new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new InvalidArgumentError('use an ISO time (2026-01-31T00:00:00Z) or a duration such as 24h');
  return time;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

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
    `requested by ${a.requester ?? '-'} at ${a.createdAt}; expires ${a.expiresAt}`,
  ];
  if (a.link) lines.push(`link: ${a.link}`);
  for (const stage of a.stages)
    lines.push(
      `stage ${stage.name}: ${stage.status}${stage.gates.map((g) => ` · ${g.approvals.length}/${g.required} of ${g.approvers.join(', ')}`).join('')}`,
    );
  for (const d of a.decisions) lines.push(`${d.actor} ${d.verdict}d${d.comment ? `: ${d.comment}` : ''}`);
  if (a.reason) lines.push(`reason: ${a.reason}`);
  return lines.join('\n');
}

/** `signoff keys create`: how a command is typed, for pointing at its help. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/**
 * Usage errors are one line that says what is wrong and where the help is, as `git` and `npm`
 * do: Commander's own (a missing option, an unknown command) and those thrown by actions.
 */
function usageErrorsOnOneLine(command: Command): void {
  const hint = ` (see ${commandPath(command)} --help)`;
  command.configureOutput({
    outputError: (text, write) => write(`${text.trim().split('\n').join(' ')}${hint}\n`),
  });
  for (const sub of command.commands) usageErrorsOnOneLine(sub);
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n${EXIT_CODES_HELP}`;
}

/** Runs the `signoff` command; resolves with the process exit code. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  out: Output = STANDARD_OUTPUT,
): Promise<number> {
  let exitCode = 0;
  const client = createClient(env);
  const program = new Command('signoff')
    .description('signoff: approvals for automation. Client commands read SIGNOFF_URL and SIGNOFF_TOKEN.')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    })
    .addHelpText(
      'after',
      examples(
        'SIGNOFF_URL=https://signoff.example.com SIGNOFF_TOKEN=sk_... signoff create -t "Deploy v2" -a lead@example.com --wait',
        'signoff ls --status pending',
        'signoff serve',
      ),
    );

  registerAgentCommands(program, {
    client,
    out,
    env,
    examples,
    exit: (code) => {
      exitCode = code;
    },
  });

  program
    .command('serve')
    .description(
      'run the server (configured by SIGNOFF_* environment variables; JSON logs on stdout, the rest on stderr)',
    )
    .addHelpText(
      'after',
      examples('SIGNOFF_DATABASE_URL=sqlite:./data/signoff.db SIGNOFF_PORT=8080 signoff serve'),
    )
    .action(async () => {
      const { serve } = await import('./serve.js');
      exitCode = await serve(out, env);
    });

  program
    .command('check')
    .description(
      'validate the configuration serve would use, try its listen address and reach its database, SMTP and AI endpoint; exit 0 or 1',
    )
    .addHelpText('after', examples('SIGNOFF_DATABASE_URL=postgres://signoff@db/signoff signoff check'))
    .action(async () => {
      const { checkConfiguration } = await import('./check.js');
      exitCode = await checkConfiguration(out, env);
    });

  program
    .command('migrate')
    .description('apply database migrations and exit')
    .addHelpText('after', examples('SIGNOFF_DATABASE_URL=postgres://signoff@db/signoff signoff migrate'))
    .action(async () => {
      const { migrateCommand } = await import('./admin.js');
      await migrateCommand(out);
    });

  const keys = program
    .command('keys')
    .description('manage API keys (works on the database directly)')
    .addHelpText(
      'after',
      examples('signoff keys create --permission admin --name "second admin"', 'signoff keys list'),
    );
  keys
    .command('create')
    .description('create an API key; its secret is printed once, on stdout')
    .addOption(
      new Option('-p, --permission <permission>', 'a permission (repeatable)')
        .choices([...PERMISSIONS])
        .argParser(collect)
        .makeOptionMandatory(),
    )
    .option('-n, --name <name>', 'what the key is for', 'api key')
    .option('-a, --actor <email>', 'the identity that decides with this key (approvals:decide)')
    .addHelpText(
      'after',
      examples(
        'signoff keys create --permission admin --name "second admin"',
        'signoff keys create -p approvals:decide -p approvals:read -a lead@example.com -n "lead cli"',
      ),
    )
    .action(async (options: { permission: string[]; name: string; actor?: string }) => {
      const { createKeyCommand } = await import('./admin.js');
      await createKeyCommand(out, options);
    });
  keys
    .command('list')
    .description('list API keys (never their secrets), revoked ones marked')
    .option('--json', 'print them as JSON')
    .addHelpText('after', examples('signoff keys list', 'signoff keys list --json | jq -r ".[].id"'))
    .action(async (options: { json?: boolean }) => {
      const { listKeysCommand } = await import('./admin.js');
      await listKeysCommand(out, options);
    });
  keys
    .command('revoke')
    .description(
      'revoke an API key by its id (as `keys list` shows it); servers stop taking it within SIGNOFF_API_KEY_CACHE_TTL',
    )
    .argument('<id>', 'key id, e.g. key_01...')
    .addHelpText('after', examples('signoff keys revoke key_01J9Z8...'))
    .action(async (id: string) => {
      const { revokeKeyCommand } = await import('./admin.js');
      await revokeKeyCommand(out, id);
    });

  const audit = program
    .command('audit')
    .description('verify and export the audit trail (reads the database serve uses, not the API)')
    .addHelpText('after', examples('signoff audit verify', 'signoff audit export --since 24h > audit.jsonl'));
  audit
    .command('verify')
    .description(
      'recompute the hash chain of the given approvals (all when none); exit 1 naming the first broken event',
    )
    .argument('[ids...]', 'approval ids')
    .addHelpText(
      'after',
      examples('signoff audit verify', 'signoff audit verify apr_01J9Z8... apr_01J9Z9...'),
    )
    .action(async (ids: string[]) => {
      const { verifyAudit } = await import('./audit.js');
      exitCode = await verifyAudit(out, ids);
    });
  audit
    .command('export')
    .description('write audit events as JSON lines on stdout, oldest first, e.g. for a SIEM')
    .requiredOption('--since <time>', 'an ISO time, or a duration meaning that long ago (24h)', since)
    .option('--after <eventId>', 'continue after this event id (the last one an earlier export wrote)')
    .addHelpText(
      'after',
      examples(
        'signoff audit export --since 24h > audit.jsonl',
        'signoff audit export --since 2026-01-01T00:00:00Z --after evt_01J9...',
      ),
    )
    .action(async (options: { since: Date; after?: string }) => {
      const { exportAudit } = await import('./audit.js');
      exitCode = await exportAudit(options);
    });

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
    .action(async (options) => {
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
      const body = {
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
      const headers: Record<string, string> = options.idempotencyKey
        ? { 'idempotency-key': options.idempotencyKey }
        : {};
      const approval = await client.request<ApprovalView>('POST', '/v1/approvals', { body, headers });
      const waiting = approval.stages.find((s) => s.status === 'pending');
      const on = waiting?.gates.length
        ? waiting.gates.map((g) => g.approvers.join(', ')).join('; ')
        : (waiting?.name ?? approval.status);
      out.log(
        `created ${approval.id}: ${approval.status === 'pending' ? `waiting for ${on}` : approval.status}`,
      );
      if (!options.wait) {
        out.print(options.json ? approval : approval.id);
        return;
      }
      if (!options.json) out.print(approval.id);
      const timeoutMs = new Date(approval.expiresAt).getTime() - Date.now() + 60_000;
      const result = await waitForApproval(client, approval.id, { timeoutMs, log: out.log });
      if (options.json) out.print(result.approval ?? approval);
      exitCode = result.code;
    });

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
      exitCode = result.code;
    });

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

  for (const verdict of ['approve', 'reject'] as const) {
    const command = program
      .command(`${verdict} <id>`)
      .description(`${verdict} as the identity of SIGNOFF_TOKEN`)
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
          ...(verdict === 'approve' ? ['signoff approve apr_01J9Z8... --grant-uses 3 --grant-for 1h'] : []),
        ),
      )
      .action(
        async (
          id: string,
          options: { comment?: string; grantUses?: string; grantFor?: string; grantMatch?: string },
        ) => {
          const grant = grantOption(options);
          const approval = await client.request<ApprovalView>(
            'POST',
            `/v1/approvals/${encodeURIComponent(id)}/decisions`,
            { body: { verdict, comment: options.comment, ...(grant && { grant }) } },
          );
          out.print(summary(approval));
        },
      );
  }

  registerGrantCommands(program, { client, out, examples });

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

  usageErrorsOnOneLine(program);
  let running: Command = program;
  program.hook('preAction', (_program, action) => {
    running = action;
  });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof ApiError) out.log(`error: ${error.message} (${error.code})`);
    else if (error instanceof InvalidArgumentError)
      out.log(`error: ${error.message} (see ${commandPath(running)} --help)`);
    else if (error instanceof SignoffError) out.log(`error: ${error.message}`);
    // Commander has printed what it had to say: help or the version (0), or a usage error, or
    // the help of a command given no subcommand (`signoff` alone), which is a usage error too.
    else if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT.error;
    else throw error;
    return EXIT.error;
  }
}

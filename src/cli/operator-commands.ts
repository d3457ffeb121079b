import { type Command, Option } from 'commander';
import { PERMISSIONS } from '../auth/principal.js';
import { type CommandContext, collect, since } from './command-context.js';

// Commands an operator runs where the server runs: they load the server, the database
// drivers and the mailer only when run.

/** `signoff serve`, `check` and `migrate`. */
function registerServerCommands(program: Command, { out, env, examples, exit }: CommandContext): void {
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
      exit(await serve(out, env));
    });

  program
    .command('check')
    .description(
      'validate the configuration serve would use, try its listen address and reach its database, SMTP and AI endpoint; exit 0 or 1',
    )
    .addHelpText('after', examples('SIGNOFF_DATABASE_URL=postgres://signoff@db/signoff signoff check'))
    .action(async () => {
      const { checkConfiguration } = await import('./check.js');
      exit(await checkConfiguration(out, env));
    });

  program
    .command('migrate')
    .description('apply database migrations and exit')
    .addHelpText('after', examples('SIGNOFF_DATABASE_URL=postgres://signoff@db/signoff signoff migrate'))
    .action(async () => {
      const { migrateCommand } = await import('./admin.js');
      await migrateCommand(out);
    });
}

/** `signoff keys create`, `list` and `revoke`. */
function registerKeyCommands(program: Command, { out, examples }: CommandContext): void {
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
}

/** `signoff audit verify` and `export`. */
function registerAuditCommands(program: Command, { out, examples, exit }: CommandContext): void {
  const audit = program
    .command('audit')
    .description(
      'verify and export the audit trail, and write evidence packs (reads the database serve uses, not the API)',
    )
    .addHelpText(
      'after',
      examples(
        'signoff audit verify',
        'signoff audit export --since 24h > audit.jsonl',
        'signoff audit evidence --from 2026-10-01 --to 2026-12-31 --format html > evidence.html',
      ),
    );
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
      exit(await verifyAudit(out, ids));
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
      exit(await exportAudit(options));
    });
  audit
    .command('evidence')
    .description(
      'the evidence pack of a period on stdout: every approval created in it, who decided, the policy in force, its chain verified, and a summary; exit 1 when a chain is broken',
    )
    .requiredOption('--from <day>', 'the first day (UTC), or an ISO time with its zone')
    .requiredOption(
      '--to <day>',
      'the last day, whole (UTC), or an ISO time with its zone (the end, not in it)',
    )
    .addOption(
      new Option('--format <format>', 'how to write it').choices(['json', 'csv', 'html']).default('json'),
    )
    .option('--sample <n>', 'list n approvals picked at random (the summary still counts all)')
    .option(
      '--seed <text>',
      'picks the sample: the same seed picks the same approvals (one is drawn and told otherwise)',
    )
    .addHelpText(
      'after',
      examples(
        'signoff audit evidence --from 2026-10-01 --to 2026-12-31 --format html > q4-evidence.html',
        'signoff audit evidence --from 2026-10-01 --to 2026-12-31 --format csv --sample 25 --seed q4-audit > sample.csv',
      ),
    )
    .action(async (options: Parameters<typeof import('./audit-evidence.js').auditEvidence>[1]) => {
      const { auditEvidence } = await import('./audit-evidence.js');
      exit(await auditEvidence(out, options));
    });
}

/** `signoff serve`, `check`, `migrate`, `keys` and `audit`. */
export function registerOperatorCommands(program: Command, context: CommandContext): void {
  registerServerCommands(program, context);
  registerKeyCommands(program, context);
  registerAuditCommands(program, context);
}

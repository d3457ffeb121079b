import { Command, InvalidArgumentError, Option } from 'commander';
import { createApiKey, parsePermissions } from '../auth/api-keys.js';
import { PERMISSIONS } from '../auth/principal.js';
import { databaseOptions, loadConfig } from '../config.js';
import { parseDuration } from '../core/duration.js';
import { SignoffError } from '../core/errors.js';
import type { ApprovalView } from '../core/view.js';
import { newId } from '../ids.js';
import { listApiKeys, revokeApiKey } from '../store/api-keys.js';
import { type Db, migrate, openDatabase } from '../store/database.js';
import { ApiError, createClient } from './client.js';
import { serve } from './serve.js';
import { EXIT, waitForApproval } from './wait.js';

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError('use a duration such as 90s, 15m, 1h or 7d');
  return ms;
}

/** Opens (and migrates) the database named by the environment for one command. */
async function withDatabase(work: (db: Db, applied: string[]) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const db = openDatabase(databaseOptions(config));
  try {
    await work(db, await migrate(db, config.databaseSchema, { warn: (_details, message) => log(message) }));
  } finally {
    await db.destroy();
  }
}

function isoTime(epochMs: number): string {
  return new Date(Number(epochMs)).toISOString();
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const print = (value: unknown) =>
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);

function summary(approval: ApprovalView): string {
  return `${approval.id}  ${approval.status.padEnd(9)}  ${approval.title}`;
}

/** Runs the `signoff` command; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const client = createClient();
  const program = new Command('signoff')
    .description('signoff: approvals for automation. Client commands read SIGNOFF_URL and SIGNOFF_TOKEN.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the server (configured by SIGNOFF_* environment variables)')
    .action(async () => {
      exitCode = await serve();
    });

  program
    .command('migrate')
    .description('apply database migrations and exit')
    .action(async () => {
      await withDatabase(async (_db, applied) => {
        log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
      });
    });

  const keys = program.command('keys').description('manage API keys (works on the database directly)');
  keys
    .command('create')
    .description('create an API key; its secret is printed once')
    .addOption(
      new Option('-p, --permission <permission>', 'a permission (repeatable)')
        .choices([...PERMISSIONS])
        .argParser(collect)
        .makeOptionMandatory(),
    )
    .option('-n, --name <name>', 'what the key is for', 'api key')
    .option('-a, --actor <email>', 'the identity that decides with this key (approvals:decide)')
    .action(async (options: { permission: string[]; name: string; actor?: string }) => {
      await withDatabase(async (db) => {
        const key = await createApiKey(db, newId, new Date(), {
          name: options.name,
          actor: options.actor ?? null,
          permissions: parsePermissions(options.permission),
        });
        log(`created ${key.id} (${options.permission.join(', ')}); the secret is shown only now:`);
        print(key.secret);
      });
    });
  keys
    .command('list')
    .description('list API keys (never their secrets), revoked ones marked')
    .action(async () => {
      await withDatabase(async (db) => {
        for (const key of await listApiKeys(db)) {
          const revoked = key.revoked_at === null ? '' : `  revoked ${isoTime(key.revoked_at)}`;
          const permissions = (JSON.parse(key.permissions) as string[]).join(',');
          print(
            `${key.id}  ${key.name}  actor=${key.actor ?? '-'}  ${permissions}  created ${isoTime(key.created_at)}${revoked}`,
          );
        }
      });
    });
  keys
    .command('revoke')
    .description(
      'revoke an API key by its id (as `keys list` shows it); servers stop taking it within SIGNOFF_API_KEY_CACHE_TTL',
    )
    .argument('<id>', 'key id, e.g. key_01...')
    .action(async (id: string) => {
      await withDatabase(async (db) => {
        if (!(await revokeApiKey(db, id, new Date())))
          throw new SignoffError('not_found', `No active API key ${id}; see signoff keys list.`);
        log(`revoked ${id}`);
      });
    });

  program
    .command('create')
    .description('ask for an approval')
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
    .option(
      '-w, --wait',
      'wait for the decision; exit 0 approved, 1 rejected, 2 expired or cancelled, 3 error',
    )
    .option('--json', 'print the approval as JSON')
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
      if (options.json) print(approval);
      else print(approval.id);
      const waiting = approval.stages.find((s) => s.status === 'pending');
      const on = waiting?.gates.length
        ? waiting.gates.map((g) => g.approvers.join(', ')).join('; ')
        : (waiting?.name ?? approval.status);
      log(`created ${approval.id}: ${approval.status === 'pending' ? `waiting for ${on}` : approval.status}`);
      if (options.wait) {
        const timeoutMs = new Date(approval.expiresAt).getTime() - Date.now() + 60_000;
        exitCode = (await waitForApproval(client, approval.id, { timeoutMs, log })).code;
      }
    });

  program
    .command('wait <id>')
    .description('wait for a decision; exit 0 approved, 1 rejected, 2 expired or cancelled, 3 error')
    .option('--timeout <duration>', 'give up (exit 3) after this long', duration)
    .action(async (id: string, options: { timeout?: number }) => {
      exitCode = (await waitForApproval(client, id, { timeoutMs: options.timeout ?? 31 * 86_400_000, log }))
        .code;
    });

  program
    .command('get <id>')
    .description('show an approval as JSON')
    .action(async (id: string) => {
      print(await client.request<ApprovalView>('GET', `/v1/approvals/${encodeURIComponent(id)}`));
    });

  program
    .command('ls')
    .description('list approvals, newest first')
    .option('-s, --status <status>', 'pending, approved, rejected, expired or cancelled')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (options: { status?: string; limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set('status', options.status);
      const page = await client.request<{ items: ApprovalView[] }>('GET', `/v1/approvals?${query}`);
      if (options.json) print(page);
      else print(page.items.map(summary).join('\n') || '(none)');
    });

  for (const verdict of ['approve', 'reject'] as const) {
    program
      .command(`${verdict} <id>`)
      .description(`${verdict} as the identity of SIGNOFF_TOKEN`)
      .option('-c, --comment <text>', 'why')
      .action(async (id: string, options: { comment?: string }) => {
        const approval = await client.request<ApprovalView>(
          'POST',
          `/v1/approvals/${encodeURIComponent(id)}/decisions`,
          {
            body: { verdict, comment: options.comment },
          },
        );
        print(summary(approval));
      });
  }

  program
    .command('cancel <id>')
    .description('cancel a pending approval; its callback is told')
    .option('--reason <text>', 'why')
    .action(async (id: string, options: { reason?: string }) => {
      const approval = await client.request<ApprovalView>(
        'POST',
        `/v1/approvals/${encodeURIComponent(id)}/cancel`,
        {
          body: { reason: options.reason },
        },
      );
      print(summary(approval));
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof ApiError) log(`error: ${error.message} (${error.code})`);
    else if (error instanceof SignoffError || error instanceof InvalidArgumentError)
      log(`error: ${error.message}`);
    else {
      // Commander has already printed its own usage errors.
      const code = (error as { code?: string }).code;
      if (code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version')
        return 0;
      if (!code?.startsWith('commander.')) throw error;
    }
    return EXIT.error;
  }
}

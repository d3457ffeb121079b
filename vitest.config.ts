import { availableParallelism } from 'node:os';
import pg from 'pg';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/slow-first-sequencer.js';

const POSTGRES_URL = process.env.SIGNOFF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether the test PostgreSQL answers; CI must have it, a laptop may not. */
async function postgresAnswers(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

// Suites that do not touch a database, or that are about the embedded default, run once.
const SQLITE_ONLY = [
  'test/core/**',
  'test/auth/permission-document.test.ts',
  'test/errors-doc.test.ts',
  'test/architecture.test.ts',
  // The Node that runs the suite is the same for both backends.
  'test/runtime.test.ts',
  'test/examples.test.ts',
  'test/intake/routing.test.ts',
  'test/github/routing.test.ts',
  'test/intake/sns-hosts.test.ts',
  'test/outbox/**',
  'test/egress/**',
  'test/quickstart.test.ts',
  'test/store/query-plans.test.ts',
  'test/store/sqlite-checkpoints.test.ts',
  // Policy files are parsed before a database is opened; the one `serve` it runs names SQLite itself.
  'test/policies/file.test.ts',
  // The CLI's subject is its HTTP client and exit codes; the server behind it is the same either way.
  'test/cli.test.ts',
  // Agents' ways in (MCP over HTTP and stdio, the Claude Code hook) are channels: the approvals
  // they ask for are stored as test/agents/action.test.ts shows on both backends.
  'test/agents/mcp.test.ts',
  'test/agents/claude-code-hook.test.ts',
  // The action's script talks HTTP to a signoff; the backend behind it does not matter.
  'test/action.test.ts',
  // The TypeScript SDK is an HTTP client of a signoff (its types come from the same document either
  // way); what the approvals it asks for store is covered on both backends elsewhere.
  'test/sdk/**',
  // Start-up and `check` are about the process and its settings; each case names its database.
  'test/cli/**',
  // Restart and shutdown of one process. Recovery after a SIGKILL on PostgreSQL is covered by
  // test/scale/two-instances.test.ts, which kills an instance mid-dispatch.
  'test/delivery/crash.test.ts',
  // Browser suites: what they check is pages, not storage. test/web/live.test.ts runs on both,
  // so live updates are proven through PostgreSQL's LISTEN/NOTIFY too.
  'test/web/sign-in.test.ts',
  'test/web/pages.test.ts',
  'test/web/oidc.test.ts',
  'test/web/grants.test.ts',
  // The HTTP server's own bounds (headers, body, keep-alive): Node's sockets, not storage.
  'test/http/timeouts.test.ts',
  // The words every surface uses for one approval: wording, not storage (the same approval on
  // PostgreSQL is rendered by the same code; test/surfaces/inputs.test.ts runs on both).
  'test/surfaces/one-truth.test.ts',
  // The commit group is SQLite's (PostgreSQL's units commit each on their own connection).
  'test/unit-of-work/commit-group.test.ts',
];
const POSTGRES_ONLY = [
  'test/scale/**',
  'test/store/prepared-statements.test.ts',
  'test/store/connection-loss.test.ts',
];
// This suite holds PostgreSQL's migration lock on purpose and counts who waits for it. The lock
// is one for the whole database (Kysely's advisory lock), so a suite starting beside it would
// queue behind it and be counted: it runs alone, before the rest.
const POSTGRES_ALONE = ['test/scale/migrations.test.ts'];

export default defineConfig(async () => {
  const down = await postgresAnswers();
  if (down && process.env.CI)
    throw new Error(
      `PostgreSQL at ${POSTGRES_URL} does not answer (${down}); CI must run the PostgreSQL suite.`,
    );
  if (down)
    console.warn(
      `\n!! PostgreSQL at ${POSTGRES_URL} does not answer (${down}).\n!! SKIPPED the PostgreSQL run; set SIGNOFF_TEST_POSTGRES_URL or start PostgreSQL to include it.\n`,
    );
  const shared = { testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' as const };
  const postgresEnv = { SIGNOFF_TEST_BACKEND: 'postgres', SIGNOFF_TEST_POSTGRES_URL: POSTGRES_URL };
  return {
    test: {
      globalSetup: ['test/global-setup.ts'],
      reporters: ['default', './test/summary-reporter.ts'],
      sequence: { sequencer: SlowFirstSequencer },
      // Most suites wait on processes, sockets and databases, not on the CPU, so two files per
      // core keep the cores busy. Measured on 2 cores (wall time when the machine was otherwise
      // quiet): 2 files 71-73 s, 3 files 59-87 s, 4 files 57-61 s; 6 files were no faster. At
      // most 8, so the suites' PostgreSQL connections (5-20 each) stay under its default limit.
      maxWorkers: Math.min(8, 2 * availableParallelism()),
      projects: [
        {
          test: {
            ...shared,
            name: 'sqlite',
            include: ['test/**/*.test.ts'],
            exclude: POSTGRES_ONLY,
            env: { SIGNOFF_TEST_BACKEND: 'sqlite' },
            sequence: { groupOrder: 1 },
          },
        },
        ...(down
          ? []
          : [
              {
                test: {
                  ...shared,
                  name: 'postgres-alone',
                  include: POSTGRES_ALONE,
                  env: postgresEnv,
                  sequence: { groupOrder: 0 },
                },
              },
              {
                test: {
                  ...shared,
                  name: 'postgres',
                  include: ['test/**/*.test.ts'],
                  exclude: [...SQLITE_ONLY, ...POSTGRES_ALONE],
                  env: postgresEnv,
                  sequence: { groupOrder: 1 },
                },
              },
            ]),
      ],
    },
  };
});

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dropSchemas, POSTGRES_URL, runSchemaPrefix } from './helpers/database.js';

/**
 * Tests that run the real `signoff` process need dist/ built from the current sources. Every
 * test waits for this, so it only emits: the output is the same, in less than half the time,
 * and `npm run typecheck` checks the types.
 */
function build() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noCheck'],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`npm run build failed:\n${tsc.stdout}${tsc.stderr}`);
}

/** The PostgreSQL schemas whose names start with `prefix`; none when PostgreSQL does not answer. */
async function schemasStartingWith(prefix: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string }>(
      'select nspname as name from pg_namespace where starts_with(nspname, $1)',
      [prefix],
    );
    return rows.map((row) => row.name);
  } catch {
    return [];
  } finally {
    await client.end().catch(() => {});
  }
}

/** Builds dist/, and names this run so that its PostgreSQL schemas are dropped together at its end. */
export default function setup() {
  build();
  const run = randomBytes(4).toString('hex');
  // Test workers are started after this and inherit it.
  process.env.SIGNOFF_TEST_RUN = run;
  // Every test file runs in a fresh worker that loads the same dependencies; Node's compile
  // cache (where the signoff command keeps its own) spares each worker compiling them again.
  process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');
  return async () => {
    await dropSchemas(await schemasStartingWith(runSchemaPrefix(run)));
  };
}

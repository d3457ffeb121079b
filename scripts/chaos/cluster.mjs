// A throwaway PostgreSQL cluster for the chaos run: its own data directory, port and socket
// directory, so crashing it touches nobody else's database. Removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The directory holding initdb, postgres and pg_ctl: pg_config's, Debian's layout, or PATH. */
function findBinDir() {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {}
  // Debian's postgresql-common keeps every major version's binaries apart; take the newest.
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  throw new Error(
    'PostgreSQL binaries not found: install PostgreSQL (initdb, pg_ctl) or put pg_config on PATH',
  );
}

/** Runs a PostgreSQL program; as root, as the postgres user, since initdb and postgres refuse root. */
function run(bin, program, args, { allowFailure = false } = {}) {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? 'runuser' : join(bin, program);
  const argv = asRoot ? ['-u', 'postgres', '--', join(bin, program), ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || allowFailure) resolve({ code, output });
      else reject(new Error(`${program} ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}

/**
 * Creates, starts and can crash a PostgreSQL cluster in a temporary directory of its own (the
 * postgres user must be able to reach it), listening on 127.0.0.1:`port`.
 */
export async function createCluster(port) {
  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'signoff-chaos-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  await run(bin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  // fsync off: what is crashed here is the server process, never the machine, so whatever a
  // commit wrote to the kernel survives the crash and recovery replays it from the WAL; only
  // a power loss would need the flush, and the shared disk is spared it.
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=60',
    '-c fsync=off',
  ].join(' ');
  const start = () => run(bin, 'pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', log, '-o', options]);
  const stopImmediately = () =>
    run(bin, 'pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', data], { allowFailure: true });
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    log,
    /** Stops the server as a crash would (no checkpoint, recovery at the next start). */
    crash: stopImmediately,
    start,
    async remove() {
      await stopImmediately();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

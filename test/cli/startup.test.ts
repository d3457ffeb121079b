import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, freePort, runCli } from '../helpers/process.js';
import { PATIENCE_MS } from '../helpers/receiver.js';
import { startSmtpServer } from '../helpers/smtp.js';

let dir: string;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
/** A port nothing listens on. */
let closedPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-startup-'));
  smtp = await startSmtpServer();
  closedPort = await freePort();
});
afterAll(async () => {
  await smtp.close();
  rmSync(dir, { recursive: true, force: true });
});

let databases = 0;
/** A fresh SQLite database (start-up is about the process, not the backend). */
function freshDatabase(): Record<string, string> {
  return {
    SIGNOFF_DATABASE_URL: `sqlite:${join(dir, `db-${++databases}`, 'signoff.db')}`,
    SIGNOFF_LOG_LEVEL: 'info',
  };
}

/** An address no machine running these tests has (TEST-NET-2): binding it fails, and nothing is sent. */
const NOT_LOCAL = '198.51.100.77';

let files = 0;
/** A plain file where a directory would have to be. */
function fileInTheWay(): string {
  const path = join(dir, `file-${++files}`);
  writeFileSync(path, 'not a directory\n');
  return path;
}

/** Holds a port on 127.0.0.1 the way another program would. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

/** Starts `signoff serve`; `until` resolves once stderr matches (or has matched); stop it with SIGTERM. */
function startServe(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, SIGNOFF_WEBHOOK_ALLOW: '127.0.0.1/32', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const watchers = new Set<() => void>();
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    for (const watch of watchers) watch();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS * 4);
  void exited.then(() => {
    clearTimeout(timer);
    ended = true;
    for (const watch of watchers) watch();
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    until: (pattern: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const watch = () => {
          const match = pattern.exec(stderr);
          if (!match && !ended) return;
          watchers.delete(watch);
          if (match) resolve(match);
          else reject(new Error(`serve ended without ${pattern}:\n${stderr}`));
        };
        watchers.add(watch);
        watch();
      }),
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('signoff serve at start-up', () => {
  it('exits 3 with one line on a busy port and stores no admin key it never printed', async () => {
    const busy = await holdPort();
    const database = freshDatabase();
    try {
      const result = await runCli(['serve'], { ...database, SIGNOFF_PORT: String(busy.port) });
      expect(result.code).toBe(3);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error'));
      expect(errors).toEqual([
        `error: signoff did not start: port ${busy.port} on 127.0.0.1 is already in use (EADDRINUSE): stop what holds it or set SIGNOFF_PORT`,
      ]);
      expect(result.stderr).not.toMatch(/sk_/);
    } finally {
      busy.server.close();
    }
    const keys = await runCli(['keys', 'list', '--json'], database);
    expect(keys.code).toBe(0);
    expect(JSON.parse(keys.stdout)).toEqual([]);
  });

  it('stores no key when SIGNOFF_ADMIN_KEY_FILE cannot take it', async () => {
    const keyFile = join(dir, 'taken-key-file');
    writeFileSync(keyFile, 'someone else\n');
    const database = freshDatabase();
    const result = await runCli(['serve'], {
      ...database,
      SIGNOFF_PORT: '0',
      SIGNOFF_ADMIN_KEY_FILE: keyFile,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `error: signoff did not start: SIGNOFF_ADMIN_KEY_FILE ${keyFile} already exists`,
    );
    expect(readFileSync(keyFile, 'utf8')).toBe('someone else\n');
    expect(JSON.parse((await runCli(['keys', 'list', '--json'], database)).stdout)).toEqual([]);
  });

  it('exits 3 with one line when the database cannot be reached', async () => {
    const result = await runCli(['serve'], {
      SIGNOFF_DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/signoff`,
      SIGNOFF_PORT: '0',
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: signoff did not start: .*database/im);
  });

  /** The lines of a failed start that say why. */
  function errorLines(stderr: string): string[] {
    return stderr.split('\n').filter((line) => line.startsWith('error'));
  }

  it.each(['0.0.0.0', '::', '[::]'])(
    'exits 3 naming SIGNOFF_PUBLIC_URL when it is unset and SIGNOFF_HOST=%s would put an unspecified address in links',
    async (host) => {
      // Held on 127.0.0.1, the port is busy on every address too: this start can never listen
      // beyond loopback, whatever it does.
      const busy = await holdPort();
      try {
        const result = await runCli(['serve'], {
          ...freshDatabase(),
          SIGNOFF_HOST: host,
          SIGNOFF_PORT: String(busy.port),
        });
        expect(result.code).toBe(3);
        const errors = errorLines(result.stderr);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(
          /^error: signoff did not start: SIGNOFF_PUBLIC_URL is not set, .* set SIGNOFF_PUBLIC_URL to the URL people open signoff at, e\.g\. http:\/\/localhost:\d+/,
        );
      } finally {
        busy.server.close();
      }
    },
  );

  it.each(['http://0.0.0.0:8080', 'http://[::]:8080/', 'http://0:8080'])(
    'exits 3 when SIGNOFF_PUBLIC_URL=%s names an unspecified address',
    async (publicUrl) => {
      const result = await runCli(['serve'], {
        ...freshDatabase(),
        SIGNOFF_PORT: '0',
        SIGNOFF_PUBLIC_URL: publicUrl,
      });
      expect(result.code).toBe(3);
      const errors = errorLines(result.stderr);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: signoff did not start: SIGNOFF_PUBLIC_URL=\S+ names no address/);
    },
  );

  it('starts on every address once SIGNOFF_PUBLIC_URL says where people open it', async () => {
    // Only the check of the settings is asked for here: the busy port stops the start right after it.
    const busy = await holdPort();
    try {
      const result = await runCli(['serve'], {
        ...freshDatabase(),
        SIGNOFF_HOST: '0.0.0.0',
        SIGNOFF_PORT: String(busy.port),
        SIGNOFF_PUBLIC_URL: 'http://localhost:8080',
      });
      expect(result.code).toBe(3);
      expect(errorLines(result.stderr)).toEqual([
        `error: signoff did not start: port ${busy.port} on 0.0.0.0 is already in use (EADDRINUSE): stop what holds it or set SIGNOFF_PORT`,
      ]);
    } finally {
      busy.server.close();
    }
  });

  it.each([
    [
      'under /proc, where mkdir never succeeds',
      () => '/proc/signoff-nope/x.db',
      /the directory \/proc\/signoff-nope cannot be created/,
    ],
    ['under a file', () => join(fileInTheWay(), 'x.db'), /is a file, not a directory/],
    ['two levels under a file', () => join(fileInTheWay(), 'sub', 'x.db'), /is a file, not a directory/],
  ])(
    'exits 3 at once naming SIGNOFF_DATABASE_URL when the SQLite path is %s',
    async (_what, path, problem) => {
      const database = path();
      const result = await runCli(['serve'], {
        SIGNOFF_DATABASE_URL: `sqlite:${database}`,
        SIGNOFF_PORT: '0',
      });
      // A start that spins is killed at the bound and has no exit code.
      expect(result.code).toBe(3);
      const errors = errorLines(result.stderr);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`error: signoff did not start: SIGNOFF_DATABASE_URL=sqlite:${database}: `);
      expect(errors[0]).toMatch(problem);
    },
    // Beyond runCli's own bound, so a start that never ends fails on its missing exit code.
    90_000,
  );

  it('exits 3 with one line on an address this machine does not have', async () => {
    const result = await runCli(['serve'], {
      ...freshDatabase(),
      SIGNOFF_HOST: NOT_LOCAL,
      SIGNOFF_PORT: '8080',
    });
    expect(result.code).toBe(3);
    expect(errorLines(result.stderr)).toEqual([
      `error: signoff did not start: cannot listen on ${NOT_LOCAL}:8080: no such local address (EADDRNOTAVAIL); check SIGNOFF_HOST`,
    ]);
  });

  it('writes a generated admin key to SIGNOFF_ADMIN_KEY_FILE (0600), banner and mails to stderr, JSON logs to stdout', async () => {
    const keyFile = join(dir, 'admin-key');
    const serve = startServe({
      ...freshDatabase(),
      SIGNOFF_PORT: '0',
      SIGNOFF_ADMIN_KEY_FILE: keyFile,
      SIGNOFF_PROT: '8081',
    });
    try {
      const [, url] = await serve.until(/signoff is listening on (http:\/\/127\.0\.0\.1:\d+)/);
      // The bound port, not the configured 0.
      expect(url).not.toMatch(/:0$/);
      expect(serve.stderr()).toContain(
        'warning: SIGNOFF_PROT is not a setting signoff knows; did you mean SIGNOFF_PORT?',
      );
      expect(serve.stderr()).toContain(`written to ${keyFile}`);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      expect(serve.stderr()).not.toContain(key);

      const created = await fetch(`${url}/v1/approvals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Deploy', approvers: ['lead@example.com'] }),
      });
      expect(created.status).toBe(201);
      const [link] = await serve.until(/https?:\/\/\S+\/d\/\S+/);
      expect(serve.stdout()).not.toContain(link);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const logs = serve.stdout().trim().split('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expect(() => JSON.parse(line)).not.toThrow();
    expect(serve.stdout()).not.toContain('signoff is listening');
  });

  it('says once, at start, that webhooks to private networks are refused and which setting opens one', async () => {
    const serve = startServe({ ...freshDatabase(), SIGNOFF_PORT: '0', SIGNOFF_WEBHOOK_ALLOW: '' });
    try {
      await serve.until(/signoff is listening/);
      const lines = serve.stderr().split('\n');
      const said = lines.filter((line) => line.startsWith('webhooks: private networks'));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain('10.0.0.0/8');
      expect(said[0]).toContain('SIGNOFF_WEBHOOK_ALLOW=');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('says how to make a key when it prints none, and warns (naming the host) when SMTP does not answer', async () => {
    const database = freshDatabase();
    const first = startServe({ ...database, SIGNOFF_PORT: '0' });
    await first.until(/SIGNOFF_TOKEN=sk_/);
    await first.until(/signoff is listening/);
    await first.stop();
    const second = startServe({
      ...database,
      SIGNOFF_PORT: '0',
      SIGNOFF_SMTP_URL: `smtp://127.0.0.1:${closedPort}`,
    });
    try {
      await second.until(/signoff is listening/);
      expect(second.stderr()).toContain('signoff keys create --permission admin');
      expect(second.stderr()).not.toContain('SIGNOFF_TOKEN=');
      await second.until(new RegExp(`warning: the SMTP server 127\\.0\\.0\\.1:${closedPort} did not answer`));
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});

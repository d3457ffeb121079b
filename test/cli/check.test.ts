import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfiguration } from '../../src/cli/check.js';
import { freePort, runCli } from '../helpers/process.js';
import { startSmtpServer } from '../helpers/smtp.js';

let dir: string;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let ai: Server;
let aiUrl: string;
let closedPort: number;
let base: Record<string, string>;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-check-'));
  smtp = await startSmtpServer();
  // Anything that answers HTTP stands in for the AI endpoint: check only asks whether it is there.
  ai = createServer((_request, response) => response.writeHead(404).end());
  await new Promise<void>((resolve) => ai.listen(0, '127.0.0.1', resolve));
  const address = ai.address();
  aiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/chat/completions`;
  closedPort = await freePort();
  // Port 0: the probe of the listen address must not depend on what else runs on this machine.
  base = {
    SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'signoff.db')}`,
    SIGNOFF_SMTP_URL: smtp.url,
    SIGNOFF_PORT: '0',
  };
});
afterAll(async () => {
  await smtp.close();
  await new Promise((resolve) => ai.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('signoff check', () => {
  it('exits 0 and says ok for each part of a sound configuration', async () => {
    const result = await runCli(['check'], {
      ...base,
      SIGNOFF_AI_URL: aiUrl,
      SIGNOFF_AI_MODEL: 'small',
      SIGNOFF_POLICIES: file(
        'good-policies.yaml',
        'policies:\n  two:\n    stages:\n      - name: people\n        type: human\n        gates:\n          - { approvers: [lead@example.com], required: 1 }\n',
      ),
    });
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'ok    environment',
      'ok    policies, routes and permissions',
      'ok    listen 127.0.0.1:0',
      'ok    database',
      `ok    smtp ${new URL(smtp.url).host}`,
      'ok    ai endpoint',
    ]);
    expect(result.code).toBe(0);
  });

  // Each mistake, and the line that must name it.
  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    ['a malformed setting', () => ({ SIGNOFF_PORT: 'eighty' }), /^error environment: SIGNOFF_PORT="eighty"/m],
    [
      'a setting name with a typo',
      () => ({ SIGNOFF_DATABSE_URL: 'sqlite::memory:' }),
      /^error environment: SIGNOFF_DATABSE_URL .* did you mean SIGNOFF_DATABASE_URL\?$/m,
    ],
    [
      'a policies file that is missing',
      () => ({ SIGNOFF_POLICIES: join(dir, 'nowhere.yaml') }),
      /^error policies, routes and permissions: .*nowhere\.yaml/m,
    ],
    [
      'a policy with an unknown field',
      () => ({ SIGNOFF_POLICIES: file('bad-policies.yaml', 'policies:\n  p:\n    stagez: []\n') }),
      /^error policies, routes and permissions: /m,
    ],
    [
      'a route naming a policy that does not exist',
      () => ({
        SIGNOFF_ROUTES: file(
          'routes.yaml',
          'routes:\n  - match: { pipeline: web }\n    policy: nonexistent\n',
        ),
      }),
      /^error policies, routes and permissions: .*nonexistent/m,
    ],
    [
      'a permission document with broken YAML',
      () => ({ SIGNOFF_PERMISSIONS: file('permissions.yaml', 'rules: [\n') }),
      /^error policies, routes and permissions: /m,
    ],
    [
      'a database that does not answer',
      () => ({ SIGNOFF_DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/signoff` }),
      /^error database: postgres:\/\/postgres@127\.0\.0\.1:\d+\/signoff is not reachable: .*ECONNREFUSED/m,
    ],
    [
      'an SMTP server that does not answer',
      () => ({ SIGNOFF_SMTP_URL: `smtp://127.0.0.1:${closedPort}` }),
      /^error smtp 127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+ did not answer: /m,
    ],
    [
      'an AI endpoint that does not answer',
      () => ({ SIGNOFF_AI_URL: `http://127.0.0.1:${closedPort}/v1`, SIGNOFF_AI_MODEL: 'small' }),
      /^error ai endpoint: 127\.0\.0\.1:\d+ is not reachable: /m,
    ],
  ];
  // The command as a process is run above; its cases run in this process, each a second faster.
  it.each(cases)('exits 1 on %s, naming it', async (_name, env, line) => {
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), print: (l: unknown) => lines.push(String(l)) };
    const code = await checkConfiguration(out, { ...base, ...env() });
    const stdout = lines.join('\n');
    expect(stdout).toMatch(line);
    expect(lines.filter((l) => l.startsWith('error'))).toHaveLength(1);
    expect(code).toBe(1);
  });
});

/** Holds a port on 127.0.0.1 the way another program would. */
async function holdPort() {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

/** An address no machine running these tests has (TEST-NET-2): binding it fails, and nothing is sent. */
const NOT_LOCAL = '198.51.100.77';
/** Beyond runCli's own bound, so a command that never ends fails on its missing exit code. */
const HANG_BOUND_MS = 90_000;
/** Two commands, one after the other, on a loaded machine. */
const TWO_RUNS_MS = 150_000;

describe('signoff check, as a process, on what serve would refuse', () => {
  /** Runs `check` to its end (killed at the bound if it never ends) and returns its code and error lines. */
  async function check(env: Record<string, string>) {
    const result = await runCli(['check'], { ...base, ...env });
    const errors = result.stdout.split('\n').filter((line) => line.startsWith('error'));
    return { code: result.code, errors };
  }

  it.each(['0.0.0.0', '::', '[::]'])(
    'names SIGNOFF_PUBLIC_URL when it is unset and SIGNOFF_HOST=%s',
    async (host) => {
      // Held on 127.0.0.1, the port is busy on every address: nothing here can listen beyond loopback.
      const busy = await holdPort();
      try {
        const { code, errors } = await check({ SIGNOFF_HOST: host, SIGNOFF_PORT: String(busy.port) });
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(
          /^error environment: SIGNOFF_PUBLIC_URL is not set, .* set SIGNOFF_PUBLIC_URL to the URL people open signoff at/,
        );
        expect(code).toBe(1);
      } finally {
        busy.server.close();
      }
    },
  );

  it('names SIGNOFF_PUBLIC_URL when it names an unspecified address', async () => {
    const { code, errors } = await check({ SIGNOFF_PUBLIC_URL: 'http://0.0.0.0:8080' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^error environment: SIGNOFF_PUBLIC_URL=http:\/\/0\.0\.0\.0:8080 names no address/,
    );
    expect(code).toBe(1);
  });

  it.each([
    [
      'under /proc, where mkdir never succeeds',
      () => '/proc/signoff-nope/x.db',
      /the directory \/proc\/signoff-nope cannot be created/,
    ],
    [
      'under a file',
      () => join(file('in-the-way', 'not a directory\n'), 'x.db'),
      /is a file, not a directory/,
    ],
  ])(
    'ends at once naming SIGNOFF_DATABASE_URL when the SQLite path is %s',
    async (_what, path, problem) => {
      const database = path();
      const { code, errors } = await check({ SIGNOFF_DATABASE_URL: `sqlite:${database}` });
      // A check that spins is killed at the bound and has no exit code.
      expect(code).toBe(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`error database: SIGNOFF_DATABASE_URL=sqlite:${database}: `);
      expect(errors[0]).toMatch(problem);
    },
    HANG_BOUND_MS,
  );

  it(
    'finds a busy port, and says so as serve does',
    async () => {
      const busy = await holdPort();
      try {
        const env = { SIGNOFF_PORT: String(busy.port) };
        const { code, errors } = await check(env);
        expect(errors).toEqual([
          `error listen 127.0.0.1:${busy.port}: port ${busy.port} on 127.0.0.1 is already in use (EADDRINUSE): stop what holds it or set SIGNOFF_PORT`,
        ]);
        expect(code).toBe(1);
        const serve = await runCli(['serve'], { ...base, ...env });
        expect(serve.code).toBe(3);
        expect(serve.stderr).toContain(
          `error: signoff did not start: ${errors[0]?.split(': ').slice(1).join(': ')}`,
        );
      } finally {
        busy.server.close();
      }
    },
    TWO_RUNS_MS,
  );

  it(
    'finds an address this machine does not have, and says so as serve does',
    async () => {
      const env = { SIGNOFF_HOST: NOT_LOCAL, SIGNOFF_PORT: '8080' };
      const { code, errors } = await check(env);
      expect(errors).toEqual([
        `error listen ${NOT_LOCAL}:8080: cannot listen on ${NOT_LOCAL}:8080: no such local address (EADDRNOTAVAIL); check SIGNOFF_HOST`,
      ]);
      expect(code).toBe(1);
      const serve = await runCli(['serve'], { ...base, ...env });
      expect(serve.code).toBe(3);
      expect(serve.stderr).toContain(
        `error: signoff did not start: ${errors[0]?.split(': ').slice(1).join(': ')}`,
      );
    },
    TWO_RUNS_MS,
  );
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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
  base = { SIGNOFF_DATABASE_URL: `sqlite:${join(dir, 'signoff.db')}`, SIGNOFF_SMTP_URL: smtp.url };
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

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, startHarness } from './helpers/harness.js';
import { startTestProvider, type TestProvider } from './helpers/oidc.js';
import { PATIENCE_MS } from './helpers/receiver.js';

const SCRIPT = fileURLToPath(new URL('../action/request-approval.mjs', import.meta.url));
// The one value a job's token request must carry; GitHub's endpoint checks it, and so does this one.
const REQUEST_TOKEN = 'actions-runtime-request-token';

let provider: TestProvider;
let h: Harness;
let url: string;
let lead: string;
let dir: string;
/** Stands in for GitHub's ID token endpoint: answers `{"value": JWT}` as it does. */
let tokenEndpoint: Server;
let tokenUrl: string;
const audiences: string[] = [];

beforeAll(async () => {
  provider = await startTestProvider();
  dir = mkdtempSync(join(tmpdir(), 'signoff-action-'));
  const permissions = join(dir, 'permissions.yaml');
  writeFileSync(
    permissions,
    `issuers:
  - issuer: ${provider.issuer}
    audience: ${provider.audience}
    people: false
rules:
  - name: ci jobs, only for their own repository
    issuer: ${provider.issuer}
    claims: { repository_owner: acme }
    permissions: [approvals:create, approvals:read]
    machine: true
    restrict:
      metadata:
        repository: { claim: repository }
`,
  );
  h = await startHarness({ SIGNOFF_PERMISSIONS: permissions });
  url = await h.signoff.app.listen({ host: '127.0.0.1', port: 0 });
  lead = await h.keyFor('lead@example.com', ['approvals:decide', 'approvals:read']);
  tokenEndpoint = createServer((request, response) => {
    const audience = new URL(request.url ?? '/', 'http://x').searchParams.get('audience') ?? '';
    if (request.headers.authorization !== `bearer ${REQUEST_TOKEN}`) {
      response.writeHead(401).end();
      return;
    }
    audiences.push(audience);
    provider
      .machineToken({ scopes: [], claims: { repository_owner: 'acme', repository: 'acme/web' } })
      .then((value) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ count: value.length, value }));
      })
      .catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
  const address = tokenEndpoint.address();
  tokenUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/token?api-version=2.0`;
});
afterAll(async () => {
  await h?.close();
  await provider?.close();
  await new Promise((resolve) => tokenEndpoint?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

let runs = 0;
/** Runs the action's script as the runner does: inputs as INPUT_*, the job's variables, an output file. */
function runAction(inputs: Record<string, string>, jobEnv: Record<string, string> = {}) {
  const output = join(dir, `output-${++runs}`);
  writeFileSync(output, '');
  const child = spawn(process.execPath, [SCRIPT], {
    env: {
      PATH: process.env.PATH,
      GITHUB_OUTPUT: output,
      GITHUB_REPOSITORY: 'acme/web',
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_RUN_ID: String(1000 + runs),
      ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
      INPUT_URL: url,
      INPUT_AUDIENCE: provider.audience,
      INPUT_WAIT: 'true',
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
      ...jobEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stdout += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), PATIENCE_MS * 6);
  const done = new Promise<number | null>((resolve) => child.once('close', resolve)).finally(() =>
    clearTimeout(timer),
  );
  return {
    done,
    stdout: () => stdout,
    outputs: () =>
      Object.fromEntries(
        readFileSync(output, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split('=') as [string, string]),
      ),
  };
}

/** Waits until the action has created its approval and is waiting on it. */
async function createdBy(run: ReturnType<typeof runAction>): Promise<string> {
  let id = '';
  await vi.waitFor(
    () => {
      const match = /created (apr_\w+)/.exec(run.stdout());
      expect(match, run.stdout()).not.toBeNull();
      expect(run.stdout()).toContain('waiting: needs 1 of lead@example.com');
      id = match?.[1] ?? '';
    },
    { timeout: PATIENCE_MS * 2, interval: 50 },
  );
  return id;
}

async function decide(id: string, verdict: 'approve' | 'reject') {
  const decided = await h.api({
    method: 'POST',
    url: `/v1/approvals/${id}/decisions`,
    token: lead,
    payload: { verdict },
  });
  expect(decided.statusCode).toBe(201);
}

describe('the GitHub Action', () => {
  it("creates an approval with the job's OIDC token, waits, and outputs approved", async () => {
    const run = runAction({ title: 'Deploy acme/web', approvers: 'lead@example.com', timeout: '1h' });
    const id = await createdBy(run);
    expect(audiences.at(-1)).toBe(provider.audience);
    const stored = (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
    expect(stored).toMatchObject({
      title: 'Deploy acme/web',
      metadata: { repository: 'acme/web' },
      link: expect.stringMatching(/^https:\/\/github\.example\/acme\/web\/actions\/runs\/\d+$/),
    });
    await decide(id, 'approve');
    expect(await run.done).toBe(0);
    expect(run.outputs()).toEqual({ 'approval-id': id, status: 'approved' });
  });

  it('fails the step when the approval is rejected', async () => {
    const run = runAction({ title: 'Deploy acme/web again', approvers: 'lead@example.com' });
    const id = await createdBy(run);
    await decide(id, 'reject');
    expect(await run.done).toBe(1);
    expect(run.outputs()).toEqual({ 'approval-id': id, status: 'rejected' });
    expect(run.stdout()).toContain(`::error title=signoff::${id} was rejected`);
  });

  it('fails the step, saying why, without id-token permission or for another repository', async () => {
    const noToken = runAction(
      { title: 'x', approvers: 'lead@example.com' },
      { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
    );
    expect(await noToken.done).toBe(1);
    expect(noToken.stdout()).toContain('id-token: write');
    // The token says acme/web; metadata naming another repository is refused by signoff.
    const other = runAction({
      title: 'x',
      approvers: 'lead@example.com',
      metadata: '{"repository":"acme/api"}',
    });
    expect(await other.done).toBe(1);
    expect(other.stdout()).toMatch(/creating the approval failed: HTTP 403/);
  });
});

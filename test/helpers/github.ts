import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify } from 'jose';
import { PATIENCE_MS } from './receiver.js';

/** One deployment protection rule answer as the stand-in received it. */
export interface ReceivedAnswer {
  readonly owner: string;
  readonly repo: string;
  readonly runId: number;
  readonly installationId: number;
  readonly body: { environment_name?: string; state?: string; comment?: string };
  /** What the stand-in answered. */
  readonly status: number;
}

/** One installation token request, with the App JWT's claims once verified. */
export interface TokenRequest {
  readonly installationId: number;
  readonly status: number;
  readonly claims?: Record<string, unknown>;
  /** Why the JWT was refused. */
  readonly error?: string;
}

/**
 * A stand-in for GitHub's REST API on loopback, speaking its wire format: an installation
 * token for a valid App JWT (RS256, signed with the App's private key, `iss` = the App id,
 * a lifetime of at most ten minutes), and the deployment protection rule endpoint, which
 * takes only a token it issued for the run's installation and records what it is told.
 * `failNext(n, status)` makes the next n answers fail with that status.
 */
export async function startGitHubStandIn(appId: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const verifyKey = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
  const tokens = new Map<string, number>();
  const answers: ReceivedAnswer[] = [];
  const tokenRequests: TokenRequest[] = [];
  const failures: { status: number; headers: Record<string, string> }[] = [];
  const waiters: (() => void)[] = [];

  async function installationToken(installationId: number, headers: IncomingHttpHeaders) {
    // The scheme is case-insensitive (Octokit sends "bearer").
    const jwt = /^Bearer (\S+)$/i.exec(headers.authorization ?? '')?.[1];
    if (!jwt) {
      tokenRequests.push({ installationId, status: 401, error: 'no JWT' });
      return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    }
    try {
      const { payload } = await jwtVerify(jwt, verifyKey, { algorithms: ['RS256'], issuer: appId });
      const now = Math.floor(Date.now() / 1000);
      const { iat, exp } = payload;
      if (typeof iat !== 'number' || typeof exp !== 'number' || iat > now + 60 || exp - iat > 660)
        throw new Error("'Expiration time' claim ('exp') is too far in the future");
      const token = `ghs_${randomBytes(18).toString('hex')}`;
      tokens.set(token, installationId);
      tokenRequests.push({ installationId, status: 201, claims: payload });
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
          permissions: { actions: 'read', deployments: 'write', metadata: 'read' },
          repository_selection: 'all',
        },
      };
    } catch (error) {
      tokenRequests.push({ installationId, status: 401, error: (error as Error).message });
      return { status: 401, body: { message: (error as Error).message } };
    }
  }

  function answer(
    params: { owner: string; repo: string; runId: number },
    headers: IncomingHttpHeaders,
    raw: string,
  ) {
    const token = /^(?:token|Bearer) (\S+)$/i.exec(headers.authorization ?? '')?.[1];
    const installationId = token ? tokens.get(token) : undefined;
    if (installationId === undefined) return { status: 401, body: { message: 'Bad credentials' } };
    let body: ReceivedAnswer['body'];
    try {
      body = JSON.parse(raw);
    } catch {
      return { status: 400, body: { message: 'Problems parsing JSON' } };
    }
    const failure = failures.shift();
    const status = failure?.status ?? 204;
    answers.push({ ...params, installationId, body, status });
    for (const wake of waiters.splice(0)) wake();
    if (failure) return { status, body: { message: 'Server Error' }, headers: failure.headers };
    return { status: 204 };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const tokenPath = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
      const rulePath = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(
        path,
      );
      let result: { status: number; body?: object; headers?: Record<string, string> };
      if (req.method === 'POST' && tokenPath)
        result = await installationToken(Number(tokenPath[1]), req.headers);
      else if (req.method === 'POST' && rulePath)
        result = answer(
          { owner: rulePath[1] ?? '', repo: rulePath[2] ?? '', runId: Number(rulePath[3]) },
          req.headers,
          raw,
        );
      else result = { status: 404, body: { message: 'Not Found' } };
      const headers = {
        ...(result.body ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...result.headers,
      };
      res.writeHead(result.status, headers).end(result.body ? JSON.stringify(result.body) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Waits until an answer matches, or fails after `timeoutMs`. */
  async function waitForAnswer(predicate: (a: ReceivedAnswer) => boolean, timeoutMs = PATIENCE_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = answers.find(predicate);
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no matching answer among ${answers.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return {
    url,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    answers,
    tokenRequests,
    waitForAnswer,
    failNext(count: number, status: number, headers: Record<string, string> = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, headers });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The X-Hub-Signature-256 GitHub sends: `sha256=` and the HMAC-SHA256 of the raw body, in hex. */
export function signGitHubWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A `deployment_protection_rule` `requested` event shaped as GitHub sends it. */
export function deploymentProtectionRuleEvent(options: {
  apiUrl: string;
  repository?: string;
  environment?: string;
  runId: number;
  sender?: string;
  installationId?: number;
  ref?: string;
  sha?: string;
  callbackUrl?: string;
}) {
  const repository = options.repository ?? 'acme/web';
  const [owner = 'acme', name = 'web'] = repository.split('/');
  const sha = options.sha ?? randomBytes(20).toString('hex');
  const sender = options.sender ?? 'octocat';
  const ref = options.ref ?? 'main';
  const deploymentId = Math.floor(Math.random() * 1e9) + 1;
  return {
    action: 'requested',
    environment: options.environment ?? 'production',
    event: 'push',
    ref: `refs/heads/${ref}`,
    deployment_callback_url:
      options.callbackUrl ??
      `${options.apiUrl}/repos/${repository}/actions/runs/${options.runId}/deployment_protection_rule`,
    deployment: {
      url: `${options.apiUrl}/repos/${repository}/deployments/${deploymentId}`,
      id: deploymentId,
      node_id: 'DE_kwDOabc',
      task: 'deploy',
      original_environment: options.environment ?? 'production',
      environment: options.environment ?? 'production',
      description: null,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      statuses_url: `${options.apiUrl}/repos/${repository}/deployments/${deploymentId}/statuses`,
      repository_url: `${options.apiUrl}/repos/${repository}`,
      creator: { login: sender, id: 583231, type: 'User' },
      sha,
      ref,
      payload: {},
      transient_environment: false,
      production_environment: true,
    },
    pull_requests: [
      {
        url: `${options.apiUrl}/repos/${repository}/pulls/42`,
        id: 1_000_042,
        number: 42,
        head: {
          ref: 'feature/faster',
          sha,
          repo: { id: 1, name, url: `${options.apiUrl}/repos/${repository}` },
        },
        base: { ref, sha, repo: { id: 1, name, url: `${options.apiUrl}/repos/${repository}` } },
      },
    ],
    repository: {
      id: 123_456,
      node_id: 'R_kgDOabc',
      name,
      full_name: repository,
      private: true,
      owner: { login: owner, id: 9919, type: 'Organization' },
      html_url: `https://github.com/${repository}`,
      url: `${options.apiUrl}/repos/${repository}`,
    },
    organization: { login: owner, id: 9919 },
    installation: {
      id: options.installationId ?? 4_242,
      node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==',
    },
    sender: { login: sender, id: 583231, type: 'User' },
  };
}

/** A fresh X-GitHub-Delivery id, as GitHub makes them. */
export function newDeliveryId(): string {
  return randomUUID();
}

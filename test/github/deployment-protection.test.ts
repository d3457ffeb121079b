import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deploymentProtectionRuleEvent,
  newDeliveryId,
  signGitHubWebhook,
  startGitHubStandIn,
} from '../helpers/github.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { eventually } from '../helpers/receiver.js';
import { linkIn, startSmtpServer } from '../helpers/smtp.js';

const APP_ID = '918273';
const SECRET = 'it-is-a-webhook-secret-0123';

let github: Awaited<ReturnType<typeof startGitHubStandIn>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let h: Harness;
let nextRun = 1000;

beforeAll(async () => {
  github = await startGitHubStandIn(APP_ID);
  smtp = await startSmtpServer();
  const dir = mkdtempSync(join(tmpdir(), 'signoff-github-'));
  const keyFile = join(dir, 'app.pem');
  writeFileSync(keyFile, github.privateKeyPem);
  const routes = join(dir, 'routes.yaml');
  writeFileSync(
    routes,
    `github:
  routes:
    - name: web to production
      match: { repository: acme/web, environment: production }
      approvers: [lead@example.com, dev@example.com]
    - name: short-lived
      match: { repository: acme/hurry }
      approvers: [lead@example.com]
      timeout: 1s
      notify: []
    - name: every api environment
      match: { repository: 'acme/api*' }
      approvers: [lead@example.com]
  people:
    octocat: dev@example.com
    Hubot: hubot@example.com
`,
  );
  h = await startHarness({
    SIGNOFF_ROUTES: routes,
    SIGNOFF_SMTP_URL: smtp.url,
    SIGNOFF_MAIL_FROM: 'signoff@example.com',
    SIGNOFF_GITHUB_WEBHOOK_SECRET: SECRET,
    SIGNOFF_GITHUB_APP_ID: APP_ID,
    SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
    SIGNOFF_GITHUB_API_URL: github.url,
  });
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
  await github?.close();
});

type EventOptions = Partial<Parameters<typeof deploymentProtectionRuleEvent>[0]>;

function event(options: EventOptions = {}) {
  return deploymentProtectionRuleEvent({ apiUrl: github.url, runId: nextRun++, ...options });
}

function deliver(
  body: object | string,
  options: { delivery?: string; signature?: string | null; event?: string; secret?: string } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signature =
    options.signature === undefined ? signGitHubWebhook(options.secret ?? SECRET, raw) : options.signature;
  return h.api({
    method: 'POST',
    url: '/integrations/github/webhook',
    payload: raw,
    token: null,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/abc1234',
      'x-github-event': options.event ?? 'deployment_protection_rule',
      'x-github-delivery': options.delivery ?? newDeliveryId(),
      'x-github-hook-id': '451',
      'x-github-hook-installation-target-type': 'integration',
      'x-github-hook-installation-target-id': APP_ID,
      ...(signature === null ? {} : { 'x-hub-signature-256': signature }),
    },
  });
}

async function approvalCount() {
  const row = await h.signoff.services.db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function getApproval(id: string) {
  return (await h.api({ method: 'GET', url: `/v1/approvals/${id}` })).json();
}

/** Decides through the link mailed to `approver` for the approval titled `title`. */
async function decideByLink(title: string, approver: string, verdict: 'approve' | 'reject', comment: string) {
  const [mail] = await smtp.waitForMails((m) => m.to === approver && m.subject.includes(title));
  if (!mail) throw new Error('no mail');
  const res = await h.api({
    method: 'POST',
    url: new URL(linkIn(mail)).pathname,
    token: null,
    payload: new URLSearchParams({ verdict, comment }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(res.statusCode).toBeLessThan(400);
}

describe('a requested deployment', () => {
  it('becomes the routed approval; approving by link answers approved with a fresh installation token', async () => {
    const body = event({ ref: 'release-2.3', runId: 7001 });
    const res = await deliver(body);
    expect(res.statusCode).toBe(200);
    const { approvalId, created } = res.json();
    expect(created).toBe(true);
    const approval = await getApproval(approvalId);
    expect(approval).toMatchObject({
      status: 'pending',
      title: 'Deploy acme/web release-2.3 to production',
      link: 'https://github.com/acme/web/actions/runs/7001',
      requester: 'dev@example.com',
      metadata: {
        source: 'github',
        repository: 'acme/web',
        environment: 'production',
        ref: 'release-2.3',
        sha: body.deployment.sha,
        runId: 7001,
        actor: 'octocat',
        pullRequests: [42],
      },
      callback: { type: 'github' },
    });
    expect(approval.description).toContain(body.deployment.sha);
    expect(approval.description).toContain('Pull request #42');

    const tokensBefore = github.tokenRequests.length;
    await decideByLink(approval.title, 'lead@example.com', 'approve', 'release notes checked');
    const answer = await github.waitForAnswer((a) => a.runId === 7001);
    expect(answer).toMatchObject({
      owner: 'acme',
      repo: 'web',
      installationId: 4242,
      status: 204,
      body: { environment_name: 'production', state: 'approved' },
    });
    expect(answer.body.comment).toContain('lead@example.com');
    expect(answer.body.comment).toContain('release notes checked');
    // The token came from the stand-in, which verified the App JWT it was asked with.
    expect(github.tokenRequests.slice(tokensBefore)).toContainEqual(
      expect.objectContaining({
        installationId: 4242,
        status: 201,
        claims: expect.objectContaining({ iss: APP_ID }),
      }),
    );
  });

  it('rejecting by link answers rejected, naming who and why', async () => {
    const res = await deliver(event({ repository: 'acme/api', environment: 'staging', runId: 7002 }));
    expect(res.statusCode).toBe(200);
    const approval = await getApproval(res.json().approvalId);
    expect(approval.title).toBe('Deploy acme/api main to staging');
    await decideByLink(approval.title, 'lead@example.com', 'reject', 'not during the freeze');
    const answer = await github.waitForAnswer((a) => a.runId === 7002);
    expect(answer.body).toMatchObject({ environment_name: 'staging', state: 'rejected' });
    expect(answer.body.comment).toContain('lead@example.com');
    expect(answer.body.comment).toContain('not during the freeze');
  });

  it('answers with one installation token until near its expiry, not one token per answer', async () => {
    const tokensBefore = github.tokenRequests.length;
    for (const runId of [7004, 7005]) {
      const res = await deliver(event({ repository: 'acme/api', environment: `cache-${runId}`, runId }));
      const approval = await getApproval(res.json().approvalId);
      await decideByLink(approval.title, 'lead@example.com', 'approve', 'fine');
      expect((await github.waitForAnswer((a) => a.runId === runId)).status).toBe(204);
    }
    // None when an earlier answer's token is still cached, one otherwise; two means no cache.
    const bought = github.tokenRequests.slice(tokensBefore).filter((r) => r.status === 201);
    expect(bought.length).toBeLessThanOrEqual(1);
  });

  it('keeps the GitHub user who triggered it from approving their own deployment', async () => {
    const res = await deliver(event({ runId: 7003, environment: 'production', repository: 'acme/web' }));
    const { approvalId } = res.json();
    const dev = await h.keyFor('dev@example.com', ['approvals:decide']);
    const decision = await h.api({
      method: 'POST',
      url: `/v1/approvals/${approvalId}/decisions`,
      payload: { verdict: 'approve' },
      token: dev,
    });
    expect(decision.statusCode).toBe(403);
    expect(decision.json().error.code).toBe('self_approval');
    expect((await getApproval(approvalId)).status).toBe('pending');
  });

  it('acknowledges other events and actions without creating anything', async () => {
    const before = await approvalCount();
    const ping = await deliver({ zen: 'Keep it logically awesome.', hook_id: 451 }, { event: 'ping' });
    expect(ping.statusCode).toBe(202);
    const other = await deliver({ ...event(), action: 'completed' });
    expect(other.statusCode).toBe(202);
    expect(await approvalCount()).toBe(before);
  });
});

describe('what creates nothing', () => {
  it('a forged, unsigned or otherwise-signed webhook', async () => {
    const before = await approvalCount();
    const body = JSON.stringify(event());
    const forged = await deliver(body, { signature: `sha256=${'0'.repeat(64)}` });
    const unsigned = await deliver(body, { signature: null });
    const wrongSecret = await deliver(body, { secret: 'someone-elses-secret-000' });
    // Signed, then changed: the signature covers the raw bytes.
    const tampered = await deliver(body.replace('"acme/web"', '"acme/api"'), {
      signature: signGitHubWebhook(SECRET, body),
    });
    for (const res of [forged, unsigned, wrongSecret, tampered]) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('invalid_signature');
    }
    expect(await approvalCount()).toBe(before);
  });

  it('a replayed delivery, even under a new delivery id, returns the first approval', async () => {
    const delivery = newDeliveryId();
    const older = event({ repository: 'acme/api', environment: 'replay', runId: 7070 });
    const first = await deliver(older, { delivery });
    const newer = await deliver(event({ repository: 'acme/api', environment: 'replay', runId: 7071 }));
    const count = await approvalCount();
    const replay = await deliver(older, { delivery });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ approvalId: first.json().approvalId, created: false });
    // The delivery id is not signed: the same body under a fresh one is still the same request,
    // so it cannot supersede the deployment that waits now.
    const resent = await deliver(older, { delivery: newDeliveryId() });
    expect(resent.json()).toEqual({ approvalId: first.json().approvalId, created: false });
    expect(await approvalCount()).toBe(count);
    expect((await getApproval(newer.json().approvalId)).status).toBe('pending');
  });

  it('an unrouted repository or environment: refused, logged, and the run told why', async () => {
    const before = await approvalCount();
    const unrouted = await deliver(event({ repository: 'acme/secret', runId: 7010 }));
    expect(unrouted.statusCode).toBe(422);
    expect(unrouted.json().error.code).toBe('no_route');
    const otherEnvironment = await deliver(event({ environment: 'staging', runId: 7011 }));
    expect(otherEnvironment.json().error.code).toBe('no_route');
    expect(await approvalCount()).toBe(before);
    const answer = await github.waitForAnswer((a) => a.runId === 7010);
    expect(answer.body.state).toBe('rejected');
    expect(answer.body.comment).toContain('no route');
    expect(answer.body.comment).toContain('acme/secret');
  });

  it('a GitHub user who is not a known person', async () => {
    const before = await approvalCount();
    const res = await deliver(event({ sender: 'stranger', runId: 7012 }));
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('unknown_requester');
    expect(await approvalCount()).toBe(before);
    const answer = await github.waitForAnswer((a) => a.runId === 7012);
    expect(answer.body).toMatchObject({ state: 'rejected' });
    expect(answer.body.comment).toContain('stranger');
  });

  it('names with control characters; other text has them replaced', async () => {
    const before = await approvalCount();
    const refused = await deliver(event({ ref: 'main\u001b[2J' }));
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('invalid_input');
    expect(await approvalCount()).toBe(before);
    const body = event({ repository: 'acme/api', environment: 'text', runId: 7080 });
    const [pull] = body.pull_requests;
    const res = await deliver({
      ...body,
      pull_requests: [{ ...pull, title: 'Faster\u0000 builds\u001b[31m' }],
    });
    expect(res.statusCode).toBe(200);
    const { description } = await getApproval(res.json().approvalId);
    expect(description).toContain('Pull request #42: Faster  builds [31m');
  });

  it('a callback URL on another host or for another repository', async () => {
    const before = await approvalCount();
    for (const callbackUrl of [
      'https://evil.example.com/repos/acme/web/actions/runs/1/deployment_protection_rule',
      `${github.url}/repos/acme/api/actions/runs/1/deployment_protection_rule`,
      `${github.url}/repos/acme/web/actions/runs/1/deployment_protection_rule/../../../../x`,
      `${github.url}.evil.example.com/repos/acme/web/actions/runs/1/deployment_protection_rule`,
    ]) {
      const res = await deliver(event({ callbackUrl }));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
    }
    expect(await approvalCount()).toBe(before);
  });
});

describe('delivery', () => {
  it('the stand-in gives no token for an App JWT signed with another key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(APP_ID)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const res = await fetch(`${github.url}/app/installations/4242/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json' },
    });
    expect(res.status).toBe(401);
  });

  it('retries while GitHub answers 5xx, until it accepts', async () => {
    const res = await deliver(event({ repository: 'acme/api', runId: 7020 }));
    const approval = await getApproval(res.json().approvalId);
    github.failNext(2, 502);
    await decideByLink(approval.title, 'lead@example.com', 'approve', 'ship it');
    await eventually(() => {
      const tries = github.answers.filter((a) => a.runId === 7020);
      expect(tries.map((a) => a.status)).toEqual([502, 502, 204]);
      expect(tries.every((a) => a.body.state === 'approved')).toBe(true);
    });
    await eventually(async () => {
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${approval.id}/audit` })).json();
      const types = audit.items.map((e: { type: string }) => e.type);
      expect(types.filter((t: string) => t === 'callback.failed')).toHaveLength(2);
      expect(types).toContain('callback.delivered');
    });
  });

  it('a newer deployment to the same environment supersedes the older, which is rejected', async () => {
    const first = await deliver(event({ repository: 'acme/api', environment: 'canary', runId: 7030 }));
    const second = await deliver(event({ repository: 'acme/api', environment: 'canary', runId: 7031 }));
    const older = await getApproval(first.json().approvalId);
    const newer = second.json().approvalId;
    expect(older.status).toBe('cancelled');
    expect((await getApproval(newer)).status).toBe('pending');
    const answer = await github.waitForAnswer((a) => a.runId === 7030);
    expect(answer.body).toMatchObject({ environment_name: 'canary', state: 'rejected' });
    expect(answer.body.comment).toContain(`superseded by ${newer}`);
    // The newer one still waits for people.
    expect(github.answers.some((a) => a.runId === 7031)).toBe(false);
  });

  it('waits as long as a rate limit says, and never retries what GitHub refuses', async () => {
    const limited = await deliver(event({ repository: 'acme/api', environment: 'qa', runId: 7040 }));
    const refused = await deliver(event({ repository: 'acme/api', environment: 'dev', runId: 7041 }));
    const limitedId = limited.json().approvalId;
    const refusedId = refused.json().approvalId;
    // One at a time, so each failure meets the answer it is meant for.
    github.failNext(1, 422);
    await h.api({ method: 'POST', url: `/v1/approvals/${refusedId}/cancel`, payload: { reason: 'two' } });
    await eventually(async () => {
      const audit = (await h.api({ method: 'GET', url: `/v1/approvals/${refusedId}/audit` })).json();
      expect(audit.items.map((e: { type: string }) => e.type)).toContain('callback.dead_lettered');
    });
    github.failNext(1, 429, { 'retry-after': '1' });
    await h.api({ method: 'POST', url: `/v1/approvals/${limitedId}/cancel`, payload: { reason: 'one' } });
    await github.waitForAnswer((a) => a.runId === 7040 && a.status === 204);
    expect(github.answers.filter((a) => a.runId === 7040).map((a) => a.status)).toEqual([429, 204]);
    expect(github.answers.filter((a) => a.runId === 7041).map((a) => a.status)).toEqual([422]);
  });

  it('a cancelled approval rejects with its reason', async () => {
    const res = await deliver(event({ repository: 'acme/api', environment: 'demo', runId: 7050 }));
    const id = res.json().approvalId;
    const cancel = await h.api({
      method: 'POST',
      url: `/v1/approvals/${id}/cancel`,
      payload: { reason: 'release moved to Monday' },
    });
    expect(cancel.statusCode).toBe(200);
    const answer = await github.waitForAnswer((a) => a.runId === 7050 && a.status === 204);
    expect(answer.body).toMatchObject({ environment_name: 'demo', state: 'rejected' });
    expect(answer.body.comment).toContain('release moved to Monday');
  });

  it('an expired approval rejects, saying so', async () => {
    const res = await deliver(event({ repository: 'acme/hurry', runId: 7060 }));
    const id = res.json().approvalId;
    const answer = await github.waitForAnswer((a) => a.runId === 7060 && a.status === 204);
    expect(answer.body.state).toBe('rejected');
    expect(answer.body.comment).toContain(`${id} expired`);
  });
});

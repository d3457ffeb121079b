#!/usr/bin/env node
// The GitHub Action's step: requests the job's OIDC token, creates an approval with it, waits
// for the decision and reports it as step outputs. Node's standard library only, on the
// runner's own node (which may be older than signoff's), so the action needs no install. Exit
// 0 when approved; 1 otherwise (rejected, expired, cancelled, or any error), which fails the
// step.
import { appendFileSync } from 'node:fs';

const env = process.env;
const POLL_SECONDS = 25;
// GitHub's ID tokens are short-lived: fetch a new one well before it could expire.
const TOKEN_MAX_AGE_MS = 4 * 60_000;

class StepError extends Error {}

function input(name) {
  return (env[`INPUT_${name.toUpperCase()}`] ?? '').trim();
}

function log(line) {
  process.stdout.write(`${line}\n`);
}

function setOutput(name, value) {
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

/** `90s`, `30m`, `2h`, `7d` or plain seconds, in seconds. */
function seconds(text) {
  const match = /^(\d+)([smhd]?)$/.exec(text);
  if (!match) throw new StepError(`timeout "${text}" is not a duration such as 30m, 2h or 7d`);
  return Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2]];
}

/** The job's OIDC token for `audience`, from the endpoint GitHub gives jobs with `id-token: write`. */
async function requestIdToken(audience) {
  const { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: bearer } = env;
  if (!url || !bearer)
    throw new StepError('no OIDC token available: give the job `permissions: id-token: write`');
  const endpoint = new URL(url);
  endpoint.searchParams.set('audience', audience);
  const response = await fetch(endpoint, {
    headers: { authorization: `bearer ${bearer}`, accept: 'application/json' },
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) throw new StepError(`GitHub refused an OIDC token: HTTP ${response.status}`);
  const { value } = await response.json();
  if (typeof value !== 'string') throw new StepError('GitHub answered without an OIDC token');
  return value;
}

function createToken(audience) {
  let token;
  let fetchedAt = 0;
  return async (fresh = false) => {
    if (fresh || !token || Date.now() - fetchedAt > TOKEN_MAX_AGE_MS) {
      token = await requestIdToken(audience);
      fetchedAt = Date.now();
    }
    return token;
  };
}

/** Calls signoff; a 401 is retried once with a fresh token. Returns { status, body }. */
async function call(base, token, method, path, { body, headers, timeoutMs = 30_000 } = {}) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(attempt > 0)}`,
        'x-signoff-client': 'github-action',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    if (response.status === 401 && attempt === 0) continue;
    return { status: response.status, body: json };
  }
}

function refusal(what, { status, body }) {
  const error = body?.error;
  return new StepError(`${what}: HTTP ${status} ${error?.code ?? ''} ${error?.message ?? ''}`.trim());
}

/** Who is still needed, in one line. */
function needed(approval) {
  const stage = approval.stages?.find((s) => s.status === 'pending');
  const gates = (stage?.gates ?? []).filter((g) => g.approvals.length < g.required);
  if (gates.length === 0) return stage ? `stage ${stage.name}` : 'nothing';
  return gates
    .map(
      (g) =>
        `${g.required - g.approvals.length} of ${g.approvers.filter((a) => !g.approvals.includes(a)).join(', ')}`,
    )
    .join('; ');
}

function body() {
  const approvers = input('approvers')
    .split(/[\n,]/)
    .map((a) => a.trim())
    .filter(Boolean);
  const policy = input('policy');
  if ((approvers.length === 0) === !policy) throw new StepError('give `approvers` or a `policy` (not both)');
  let metadata = {};
  if (input('metadata')) {
    try {
      metadata = JSON.parse(input('metadata'));
    } catch {
      throw new StepError('`metadata` must be a JSON object');
    }
  }
  const run =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  return {
    title: input('title'),
    description: input('description') || undefined,
    link: input('link') || run,
    approvers: policy ? undefined : approvers,
    policy: policy || undefined,
    required: input('required') ? Number(input('required')) : undefined,
    // The repository goes in first so that signoff's `restrict: metadata: repository` rules match.
    metadata: { ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}), ...metadata },
    timeout: input('timeout') ? seconds(input('timeout')) : undefined,
  };
}

async function waitForDecision(base, token, approval) {
  const deadline = new Date(approval.expiresAt).getTime() + 60_000;
  let last = '';
  let failures = 0;
  for (;;) {
    if (approval.status !== 'pending') return approval;
    const line = `waiting: needs ${needed(approval)} · expires ${approval.expiresAt}`;
    if (line !== last) log(line);
    last = line;
    if (Date.now() > deadline)
      throw new StepError(`${approval.id} is still pending after it should have expired`);
    try {
      const answer = await call(
        base,
        token,
        'GET',
        `/v1/approvals/${approval.id}/wait?timeout=${POLL_SECONDS}s`,
        {
          timeoutMs: (POLL_SECONDS + 15) * 1000,
        },
      );
      if (answer.status >= 400 && answer.status < 500) throw refusal('waiting failed', answer);
      if (answer.status >= 500) throw new Error(`HTTP ${answer.status}`);
      approval = answer.body;
      failures = 0;
    } catch (error) {
      if (error instanceof StepError) throw error;
      failures++;
      const pause = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
      log(`signoff did not answer (${error.message}); retrying in ${pause / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

async function run() {
  const base = input('url').replace(/\/+$/, '');
  const audience = input('audience');
  if (!base || !audience || !input('title'))
    throw new StepError('`url`, `audience` and `title` are required');
  const token = createToken(audience);
  const headers =
    env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
      ? {
          // A re-run of the same attempt finds the approval it already asked for.
          'idempotency-key':
            `${env.GITHUB_REPOSITORY}/${env.GITHUB_RUN_ID}/${env.GITHUB_RUN_ATTEMPT ?? 1}/${env.GITHUB_JOB ?? ''}/${input('title')}`.slice(
              0,
              200,
            ),
        }
      : {};
  const created = await call(base, token, 'POST', '/v1/approvals', { body: body(), headers });
  if (created.status !== 201 && created.status !== 200)
    throw refusal('creating the approval failed', created);
  const approval = created.body;
  log(`created ${approval.id}: ${approval.title}`);
  setOutput('approval-id', approval.id);
  if (input('wait') === 'false') {
    setOutput('status', approval.status);
    return 0;
  }
  const decided = await waitForDecision(base, token, approval);
  setOutput('status', decided.status);
  const by = (decided.decisions ?? []).map((d) => `${d.actor} ${d.verdict}d`).join(', ');
  log(`${decided.id} ${decided.status}${by ? ` (${by})` : ''}${decided.reason ? `: ${decided.reason}` : ''}`);
  // Approved while its policy's change window was shut: nothing goes ahead before it opens.
  const held = decided.resumesAt ? Date.parse(decided.resumesAt) - Date.now() : 0;
  if (decided.status === 'approved' && held > 0) {
    log(`its policy's change window holds it until ${decided.resumesAt}; waiting`);
    await new Promise((resolve) => setTimeout(resolve, held));
  }
  if (decided.status === 'approved') return 0;
  process.stdout.write(`::error title=signoff::${decided.id} was ${decided.status}\n`);
  return 1;
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stdout.write(
      `::error title=signoff::${error instanceof StepError ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

import { readFileSync } from 'node:fs';
import type { Octokit } from '@octokit/core';
import { CALLBACK_EVENTS } from '../core/audit.js';
import { SignoffError } from '../core/errors.js';
import { PermanentDeliveryError, parseRetryAfter, RetryAfterError } from '../outbox/errors.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { GitHubAnswerPayload } from '../outbox/kinds.js';
import type { Services } from '../services.js';
import { outcomeOf, truncate } from './outcome.js';

/** GitHub shows the comment on the run; longer ones are refused. */
const MAX_COMMENT = 1024;
/** When GitHub says "rate limited" without saying until when. */
const RATE_LIMITED_RETRY_MS = 60_000;

/** The state and comment GitHub is told: approved only when the approval was. */
export function githubAnswer(payload: GitHubAnswerPayload): {
  state: 'approved' | 'rejected';
  comment: string;
} {
  if (!payload.data)
    return { state: 'rejected', comment: truncate(payload.refusal ?? 'refused by signoff', MAX_COMMENT) };
  const outcome = outcomeOf(payload.data);
  return {
    state: outcome.approved ? 'approved' : 'rejected',
    comment: truncate(outcome.summary, MAX_COMMENT),
  };
}

/** A failed GitHub call as the outbox needs it: retry later, retry after N, or never. */
function classifyGitHubError(error: unknown, what: string, now: Date): Error {
  const failure = error as {
    name?: string;
    status?: number;
    response?: { headers?: Record<string, string | undefined> };
  };
  const name = failure?.name ?? '';
  if (name === 'TimeoutError' || name === 'AbortError')
    return new SignoffError('upstream_timeout', `${what}: GitHub did not answer in time.`, { cause: error });
  const status = typeof failure?.status === 'number' ? failure.status : 0;
  const headers = failure?.response?.headers ?? {};
  const limited = status === 429 || (status === 403 && headers['x-ratelimit-remaining'] === '0');
  if (limited || (status === 403 && headers['retry-after'])) {
    const reset = Number(headers['x-ratelimit-reset']);
    const untilReset = Number.isFinite(reset) && reset > 0 ? reset * 1000 - now.getTime() : undefined;
    const waitMs = parseRetryAfter(headers['retry-after'], now) ?? untilReset ?? RATE_LIMITED_RETRY_MS;
    return new RetryAfterError(`${what}: GitHub is rate limiting (${status}).`, waitMs, { cause: error });
  }
  if (status >= 400 && status < 500)
    return new PermanentDeliveryError(`${what}: GitHub answered ${status}.`, { cause: error });
  // 5xx, and network failures (which Octokit reports as 500 or without a status).
  return new SignoffError('upstream_failed', `${what}: GitHub answered ${status || 'nothing'}.`, {
    cause: error,
  });
}

/** Octokit authenticated as one installation of the App. */
type InstallationOctokit = (installationId: number) => Promise<Octokit>;

/**
 * The GitHub App: its JWT buys an installation token (cached until near its expiry, one cache
 * for every installation), which answers deployment protection rules. Every request goes to
 * SIGNOFF_GITHUB_API_URL. The key is read at start, so a missing one stops it; Octokit is
 * loaded by the first answer, not by every start.
 */
function createInstallationOctokit(services: Services): InstallationOctokit | undefined {
  const { githubAppId, githubAppPrivateKeyFile } = services.config;
  if (!githubAppId || !githubAppPrivateKeyFile) return undefined;
  const privateKey = readFileSync(githubAppPrivateKeyFile, 'utf8');
  let connected: Promise<InstallationOctokit> | undefined;
  return async (installationId) => {
    // A failure is not kept: the next answer tries again.
    connected ??= connectApp(services, githubAppId, privateKey).catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    return (await connected)(installationId);
  };
}

/** The App's client and its installations' clients, with Octokit loaded. */
async function connectApp(
  services: Services,
  appId: string,
  privateKey: string,
): Promise<InstallationOctokit> {
  const { githubApiUrl, httpTimeoutMs } = services.config;
  const [{ createAppAuth }, { Octokit }] = await Promise.all([
    import('@octokit/auth-app'),
    import('@octokit/core'),
  ]);
  const BoundedOctokit = Octokit.defaults({
    baseUrl: githubApiUrl,
    userAgent: 'signoff',
    request: {
      fetch: (url: string | URL, init?: RequestInit) =>
        fetch(url, { ...init, signal: AbortSignal.timeout(httpTimeoutMs), redirect: 'error' }),
    },
  });
  const log = {
    debug: () => {},
    info: () => {},
    warn: (message: string) => services.logger.warn({ component: 'github' }, message),
    error: (message: string) => services.logger.error({ component: 'github' }, message),
  };
  // The App's own client buys the tokens: its hook signs with the JWT and, when GitHub's clock
  // and this one disagree, signs again with the difference.
  const app = new BoundedOctokit({
    authStrategy: createAppAuth,
    auth: { appId, privateKey },
    log,
  });
  const appAuth = createAppAuth({ appId, privateKey, request: app.request, log });
  // Each installation's client shares the App's token cache and the App's client, as
  // @octokit/app's getInstallationOctokit does.
  return (installationId) =>
    appAuth({
      type: 'installation',
      installationId,
      factory: (auth) => new BoundedOctokit({ authStrategy: createAppAuth, auth, log }),
    });
}

/**
 * Answers a GitHub deployment protection rule: POST approved or rejected, with a comment
 * naming who decided and why, to the run's `deployment_protection_rule` endpoint under the
 * configured API base, with the installation's token.
 */
export function createGitHubAnswerHandler(services: Services): OutboxHandler<'github-answer'> {
  const installationOctokit = createInstallationOctokit(services);
  return {
    events: CALLBACK_EVENTS,
    async deliver({ payload }) {
      if (!installationOctokit)
        throw new PermanentDeliveryError(
          'The GitHub App is not configured (SIGNOFF_GITHUB_APP_ID, SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE).',
        );
      const { target } = payload;
      const [owner, repo] = target.repository.split('/');
      const { state, comment } = githubAnswer(payload);
      const what = `Deployment protection answer for ${target.repository} run ${target.runId}`;
      try {
        const octokit = await installationOctokit(target.installationId);
        await octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', {
          owner: owner ?? '',
          repo: repo ?? '',
          run_id: target.runId,
          environment_name: target.environment,
          state,
          comment,
        });
      } catch (error) {
        throw classifyGitHubError(error, what, services.now());
      }
      return {
        target: 'github',
        repository: target.repository,
        environment: target.environment,
        runId: target.runId,
        state,
      };
    },
  };
}

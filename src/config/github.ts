import { SignoffError } from '../core/errors.js';
import { baseUrl, type Env, text } from './read.js';

/** The GitHub App that answers deployment protection rules. */
export interface GitHubConfig {
  /** The GitHub App's webhook secret; unset, /integrations/github/webhook refuses everything. */
  readonly githubWebhookSecret: string | undefined;
  readonly githubAppId: string | undefined;
  /** PEM file of the GitHub App's private key. */
  readonly githubAppPrivateKeyFile: string | undefined;
  /** GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3); answers go only under it. */
  readonly githubApiUrl: string;
}

/** The GitHub App settings go together: a webhook secret is useless without a way to answer. */
function checkGitHub(config: GitHubConfig): void {
  const given = [config.githubWebhookSecret, config.githubAppId, config.githubAppPrivateKeyFile];
  if (given.every((v) => v === undefined)) return;
  if (given.some((v) => v === undefined))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_GITHUB_WEBHOOK_SECRET, SIGNOFF_GITHUB_APP_ID and SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE go together: set all three or none.',
    );
  if (!/^\d{1,20}$/.test(config.githubAppId ?? ''))
    throw new SignoffError('invalid_input', "SIGNOFF_GITHUB_APP_ID must be the App's numeric id.");
  if ((config.githubWebhookSecret ?? '').length < 16)
    throw new SignoffError('invalid_input', 'SIGNOFF_GITHUB_WEBHOOK_SECRET must be at least 16 characters.');
  if (/^[a-z]+:\/\/[^/]*@/i.test(config.githubApiUrl) || /[?#]/.test(config.githubApiUrl))
    throw new SignoffError(
      'invalid_input',
      'SIGNOFF_GITHUB_API_URL must be a plain base URL, without credentials.',
    );
}

/** The GitHub settings. */
export function readGitHubConfig(env: Env): GitHubConfig {
  const config = {
    githubWebhookSecret: text(env, 'SIGNOFF_GITHUB_WEBHOOK_SECRET'),
    githubAppId: text(env, 'SIGNOFF_GITHUB_APP_ID'),
    githubAppPrivateKeyFile: text(env, 'SIGNOFF_GITHUB_APP_PRIVATE_KEY_FILE'),
    githubApiUrl: baseUrl(env, 'SIGNOFF_GITHUB_API_URL', 'https://api.github.com'),
  };
  checkGitHub(config);
  return config;
}

import { SignoffError } from '../core/errors.js';
import { baseUrl, type Env, text } from './read.js';

/** Slack as a channel: the bot that posts and the secret that proves its clicks. */
export interface SlackConfig {
  /** Slack's bot token (xoxb-…): Slack is a channel only when it and the signing secret are set. */
  readonly slackBotToken: string | undefined;
  /** Verifies interaction requests (Slack's v0 signature). */
  readonly slackSigningSecret: string | undefined;
  /** Base URL of Slack's Web API (GovSlack, a proxy, or a stand-in in tests). */
  readonly slackApiUrl: string;
}

/** The Slack settings: the token and the signing secret go together. */
export function readSlackConfig(env: Env): SlackConfig {
  const config = {
    slackBotToken: text(env, 'SIGNOFF_SLACK_BOT_TOKEN'),
    slackSigningSecret: text(env, 'SIGNOFF_SLACK_SIGNING_SECRET'),
    slackApiUrl: `${baseUrl(env, 'SIGNOFF_SLACK_API_URL', 'https://slack.com/api')}/`,
  };
  if (Boolean(config.slackBotToken) !== Boolean(config.slackSigningSecret))
    throw new SignoffError(
      'invalid_input',
      'Slack needs both SIGNOFF_SLACK_BOT_TOKEN and SIGNOFF_SLACK_SIGNING_SECRET (or neither).',
    );
  return config;
}

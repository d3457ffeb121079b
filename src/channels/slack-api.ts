import { ErrorCode, LogLevel, type Logger as SlackLogger, WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { PermanentDeliveryError, RetryAfterError } from '../outbox/errors.js';
import type { SlackApi, SlackUser } from '../ports.js';

// Answers that another attempt cannot change: the setup is wrong or the target is gone.
const PERMANENT_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'no_permission',
  'invalid_arguments',
  'invalid_blocks',
  'msg_too_long',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'user_not_found',
  'users_not_found',
  'restricted_action',
  'team_access_not_granted',
]);

/** Slack's answer in the outbox's terms: retry after what Slack said, never, or with backoff. */
function toDeliveryError(method: string, error: unknown): Error {
  const coded = error as {
    code?: string;
    retryAfter?: number;
    data?: { error?: string };
    statusCode?: number;
  };
  if (coded.code === ErrorCode.RateLimitedError)
    return new RetryAfterError(`Slack ${method}: rate limited`, (coded.retryAfter ?? 1) * 1000, {
      cause: error,
    });
  if (coded.code === ErrorCode.PlatformError) {
    const reason = coded.data?.error ?? 'unknown';
    if (reason === 'ratelimited')
      return new RetryAfterError(`Slack ${method}: ${reason}`, 30_000, { cause: error });
    if (PERMANENT_ERRORS.has(reason))
      return new PermanentDeliveryError(`Slack ${method}: ${reason}`, { cause: error });
    return new Error(`Slack ${method}: ${reason}`, { cause: error });
  }
  if (coded.code === ErrorCode.HTTPError)
    return new Error(`Slack ${method}: HTTP ${coded.statusCode}`, { cause: error });
  return new Error(`Slack ${method}: ${error instanceof Error ? error.message : 'request failed'}`, {
    cause: error,
  });
}

/** The Web API client's log lines go to ours, without its debug chatter (which can hold payloads). */
function slackLogger(logger: Logger): SlackLogger {
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg) => logger.warn({ slack: msg.map(String).join(' ') }, 'slack client warning'),
    error: (...msg) => logger.error({ slack: msg.map(String).join(' ') }, 'slack client error'),
    setLevel: () => {},
    getLevel: () => LogLevel.WARN,
    setName: () => {},
  };
}

/** Runs one Web API call; a failure comes out in the outbox's terms. */
async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toDeliveryError(method, error);
  }
}

/** Runs one Web API lookup: Slack's `notFound` answer means there is none. */
async function find<T>(method: string, notFound: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if ((error as { data?: { error?: string } }).data?.error === notFound) return undefined;
    throw toDeliveryError(method, error);
  }
}

type SlackUserAnswer = NonNullable<Awaited<ReturnType<WebClient['users']['info']>>['user']>;

/** A user as signoff needs one, from `users.info`'s answer. */
function slackUserOf(user: SlackUserAnswer | undefined): SlackUser | undefined {
  if (!user?.id) return undefined;
  return {
    id: user.id,
    email: user.profile?.email ?? null,
    // A Slack Connect channel shows members of other organisations, whose admins set
    // their profile emails: they are strangers, and their team is not ours.
    active: user.deleted !== true && user.is_bot !== true && user.is_stranger !== true,
    teamId: user.team_id ?? null,
  };
}

/** The workspace the token belongs to, asked once; a failed answer is asked again next time. */
function ownTeamOf(client: WebClient): () => Promise<string> {
  let ownTeam: Promise<string> | undefined;
  return () => {
    ownTeam ??= client.auth.test().then(
      (answer) => {
        if (!answer.team_id) throw new Error('auth.test named no team');
        return answer.team_id;
      },
      (error: unknown) => {
        ownTeam = undefined;
        throw toDeliveryError('auth.test', error);
      },
    );
    return ownTeam;
  };
}

/**
 * Slack's Web API at `apiUrl` (Slack, GovSlack, or a stand-in). The client retries nothing
 * itself: the outbox retries with backoff and waits out a 429's Retry-After.
 */
export function createSlackApi(options: {
  token: string;
  apiUrl: string;
  timeoutMs: number;
  logger: Logger;
}): SlackApi {
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs,
    allowAbsoluteUrls: false,
    logger: slackLogger(options.logger),
  });
  return {
    async postMessage({ channel, text, blocks, threadTs }) {
      const result = await call('chat.postMessage', () =>
        client.chat.postMessage({
          channel,
          text,
          blocks: blocks ? [...blocks] : undefined,
          thread_ts: threadTs,
          // Request text is plain: no mentions, no link unfurling, no markup in the notification text.
          mrkdwn: false,
          link_names: false,
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (!result.channel || !result.ts)
        throw new Error('Slack chat.postMessage: answer without channel or ts');
      return { channel: result.channel, ts: result.ts };
    },
    async updateMessage({ channel, ts, text, blocks }) {
      await call('chat.update', () => client.chat.update({ channel, ts, text, blocks: [...blocks] }));
    },
    async postEphemeral({ channel, user, text }) {
      await call('chat.postEphemeral', () => client.chat.postEphemeral({ channel, user, text }));
    },
    async lookupUserByEmail(email) {
      const result = await find('users.lookupByEmail', 'users_not_found', () =>
        client.users.lookupByEmail({ email }),
      );
      return result?.user?.id;
    },
    async userInfo(id) {
      const result = await find('users.info', 'user_not_found', () => client.users.info({ user: id }));
      return slackUserOf(result?.user);
    },
    ownTeam: ownTeamOf(client),
    async openView(triggerId, view) {
      await call('views.open', () => client.views.open({ trigger_id: triggerId, view }));
    },
  };
}

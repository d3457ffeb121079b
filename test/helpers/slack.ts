import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PATIENCE_MS } from './receiver.js';

export const SLACK_BOT_TOKEN = 'xoxb-test-0123456789-abcdefghij';
export const SLACK_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

/** One Web API call as the stand-in received it: the method, its arguments, when. */
export interface SlackCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
  readonly contentType: string;
  /** The HTTP status answered (429 when rate limited). */
  readonly status: number;
  /** Whether Slack answered `ok: true`. */
  readonly ok: boolean;
  readonly at: number;
}

/** A message the stand-in holds, as posted and then updated. */
export interface SlackMessage {
  readonly channel: string;
  readonly ts: string;
  text: string;
  blocks: unknown[];
  readonly threadTs: string | undefined;
}

export interface SlackUserRecord {
  readonly id: string;
  readonly email: string;
  readonly deleted?: boolean;
  readonly isBot?: boolean;
  /** The user's workspace: the bot's own (`T0001`) unless said. */
  readonly team?: string;
  /** A member of another organisation seen through a Slack Connect channel. */
  readonly stranger?: boolean;
}

/** How the next call of a method fails: rate limited (429 with Retry-After), or an `ok: false` error. */
export type SlackFailure =
  | { readonly ratelimited: number }
  | { readonly error: string }
  | { readonly status: number };

/**
 * A stand-in for Slack's Web API on loopback, speaking its wire format: form or JSON bodies,
 * `Authorization: Bearer`, `{ok: true, …}` / `{ok: false, error}` answers, and `429` with
 * `Retry-After` and `ratelimited`. It keeps every call and every message, can be told to
 * fail, and can go down and come back on the same port.
 */
/** The workspace of the stand-in's bot token. */
const TEAM = 'T0001';

export async function startSlack(options: { users?: readonly SlackUserRecord[] } = {}) {
  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const users = new Map((options.users ?? []).map((u) => [u.id, u]));
  const failures = new Map<string, SlackFailure[]>();
  const waiters: (() => void)[] = [];
  let server: Server | undefined;
  let port = 0;
  let clock = 1_700_000_000;

  function channelFor(requested: string): string {
    // A user id opens the app's direct message with them; a #name is a channel.
    if (/^U[A-Z0-9]+$/.test(requested)) return `D${requested.slice(1)}`;
    if (requested.startsWith('#'))
      return `C${requested
        .slice(1)
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')}`;
    return requested;
  }

  function answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const str = (name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined);
    const parseBlocks = () => {
      const raw = args.blocks;
      return typeof raw === 'string' ? (JSON.parse(raw) as unknown[]) : Array.isArray(raw) ? raw : [];
    };
    switch (method) {
      case 'chat.postMessage': {
        const requested = str('channel');
        if (!requested) return { ok: false, error: 'channel_not_found' };
        const channel = channelFor(requested);
        clock += 1;
        const ts = `${clock}.000100`;
        messages.push({
          channel,
          ts,
          text: str('text') ?? '',
          blocks: parseBlocks(),
          threadTs: str('thread_ts'),
        });
        return { ok: true, channel, ts, message: { text: str('text'), ts } };
      }
      case 'chat.update': {
        const message = messages.find((m) => m.channel === str('channel') && m.ts === str('ts'));
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = str('text') ?? message.text;
        message.blocks = parseBlocks();
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral':
        clock += 1;
        return { ok: true, message_ts: `${clock}.000200` };
      case 'users.lookupByEmail': {
        const email = str('email')?.toLowerCase();
        const user = [...users.values()].find((u) => u.email.toLowerCase() === email);
        return user
          ? { ok: true, user: { id: user.id, profile: { email: user.email } } }
          : { ok: false, error: 'users_not_found' };
      }
      case 'users.info': {
        const user = users.get(str('user') ?? '');
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: user.id,
            deleted: user.deleted ?? false,
            is_bot: user.isBot ?? false,
            team_id: user.team ?? TEAM,
            ...(user.stranger ? { is_stranger: true } : {}),
            profile: { email: user.email },
          },
        };
      }
      case 'auth.test':
        return {
          ok: true,
          url: 'https://signoff-test.slack.com/',
          team: 'signoff test',
          team_id: TEAM,
          user_id: 'UBOT',
        };
      case 'views.open':
        return { ok: true, view: { id: `V${clock}` } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  async function start() {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const contentType = req.headers['content-type'] ?? '';
        const raw = Buffer.concat(chunks).toString('utf8');
        const args: Record<string, unknown> = contentType.startsWith('application/json')
          ? (JSON.parse(raw || '{}') as Record<string, unknown>)
          : Object.fromEntries(new URLSearchParams(raw));
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res
            .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
            .end(JSON.stringify(body));
        };
        const failure = failures.get(method)?.shift();
        const authorized = req.headers.authorization === `Bearer ${SLACK_BOT_TOKEN}`;
        let status = 200;
        let body: Record<string, unknown>;
        const headers: Record<string, string> = {};
        if (failure && 'ratelimited' in failure) {
          status = 429;
          body = { ok: false, error: 'ratelimited' };
          headers['retry-after'] = String(failure.ratelimited);
        } else if (failure && 'status' in failure) {
          status = failure.status;
          body = { ok: false, error: 'fatal_error' };
        } else if (failure) body = { ok: false, error: failure.error };
        else if (!authorized) body = { ok: false, error: 'not_authed' };
        else body = answer(method, args);
        calls.push({ method, args, contentType, status, ok: body.ok === true, at: Date.now() });
        send(status, body, headers);
        for (const wake of waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  async function stop() {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Waits until `count` calls match, or fails after `timeoutMs`. */
  async function waitForCalls(predicate: (call: SlackCall) => boolean, count = 1, timeoutMs = PATIENCE_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = calls.filter(predicate);
      if (found.length >= count) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(
          `expected ${count} Slack call(s), got ${found.length}: ${calls.map((c) => c.method).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  await start();
  return {
    /** The base URL for SIGNOFF_SLACK_API_URL. */
    get apiUrl() {
      return `http://127.0.0.1:${port}/api/`;
    },
    calls,
    messages,
    addUser(user: SlackUserRecord) {
      users.set(user.id, user);
    },
    /** The next calls of `method` fail as given, one failure per call. */
    failNext(method: string, ...failure: SlackFailure[]) {
      failures.set(method, [...(failures.get(method) ?? []), ...failure]);
    },
    waitForCalls,
    /** Calls of one method Slack answered `ok: true`. */
    okCalls(method: string) {
      return calls.filter((c) => c.method === method && c.ok);
    },
    start,
    stop,
    async close() {
      await stop();
    },
  };
}

export type SlackStandIn = Awaited<ReturnType<typeof startSlack>>;

/** The environment that points signoff at the stand-in. */
export function slackEnv(slack: SlackStandIn): Record<string, string> {
  return {
    SIGNOFF_SLACK_BOT_TOKEN: SLACK_BOT_TOKEN,
    SIGNOFF_SLACK_SIGNING_SECRET: SLACK_SIGNING_SECRET,
    SIGNOFF_SLACK_API_URL: slack.apiUrl,
  };
}

/**
 * An interaction request signed exactly as Slack signs one: the form body `payload=<JSON>`,
 * `X-Slack-Request-Timestamp`, and `X-Slack-Signature: v0=HMAC-SHA256(secret, v0:ts:body)`.
 */
export function signedInteraction(
  payload: unknown,
  options: { secret?: string; timestamp?: number } = {},
): { headers: Record<string, string>; payload: string } {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', options.secret ?? SLACK_SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex');
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${signature}`,
    },
    payload: body,
  };
}

/** A button click on a posted message, as Slack sends it. */
export function buttonClick(
  message: SlackMessage,
  userId: string,
  actionId: 'signoff.approve' | 'signoff.reject',
) {
  const actions = message.blocks.find((b) => (b as { type?: string }).type === 'actions') as
    | { elements: { action_id: string; value: string }[] }
    | undefined;
  const button = actions?.elements.find((e) => e.action_id === actionId);
  if (!button) throw new Error(`the message has no ${actionId} button`);
  return {
    type: 'block_actions',
    team: { id: 'T0001' },
    user: { id: userId, username: userId.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel },
    trigger_id: `${Date.now()}.trigger`,
    channel: { id: message.channel, name: 'deploys' },
    message: { ts: message.ts, text: message.text },
    response_url: 'http://127.0.0.1:9/unused',
    actions: [
      {
        action_id: actionId,
        block_id: 'signoff.decide',
        value: button.value,
        type: 'button',
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** The reject modal's submission, with its reason, as Slack sends it. */
export function rejectSubmission(privateMetadata: string, userId: string, reason: string) {
  return viewSubmission('signoff.reject-reason', privateMetadata, userId, {
    reason: { reason: { type: 'plain_text_input', value: reason } },
  });
}

/** A modal's submission as Slack sends it: each block's element state, keyed by block and action. */
export function viewSubmission(
  callbackId: string,
  privateMetadata: string,
  userId: string,
  values: Record<string, Record<string, Record<string, unknown>>>,
) {
  return {
    type: 'view_submission',
    team: { id: 'T0001' },
    user: { id: userId, team_id: 'T0001' },
    api_app_id: 'A0001',
    view: {
      id: 'V0001',
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      state: { values },
    },
  };
}

import type { Logger } from 'pino';
import { SignoffError } from '../core/errors.js';
import type { AllowList } from './address-policy.js';
import {
  type CheckedTarget,
  checkTarget,
  type PinnedAnswer,
  type ResolveHost,
  sendPinned,
} from './pinned-request.js';

/**
 * Outbound HTTP to URLs a requester chose (webhooks), only to addresses the configuration
 * allows. What went wrong in detail (addresses, DNS and socket errors) goes to the log;
 * errors say only the target's origin and the kind of failure.
 */
export interface Egress {
  /**
   * Throws `callback_not_allowed` for a URL whose host resolves to an address signoff may not
   * send to. A name that does not resolve now passes: every delivery checks it again.
   */
  assertAllowed(url: string): Promise<void>;
  /**
   * Sends one request, connected only to the addresses just checked, and resolves with the
   * HTTP status and any Retry-After. Throws `callback_not_allowed`, `upstream_timeout` or
   * `upstream_failed`.
   */
  send(
    url: string,
    request: { method: string; headers: Readonly<Record<string, string>>; body: string },
  ): Promise<PinnedAnswer>;
}

export interface EgressOptions {
  /** SIGNOFF_WEBHOOK_ALLOW; undefined: every address but the refused and private ranges. */
  readonly allow: AllowList | undefined;
  readonly resolve: ResolveHost;
  /** Resolving, connecting and the answer's headers together take at most this long. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** The outbound gate of a running signoff. */
export function createEgress(options: EgressOptions): Egress {
  const { allow, resolve, timeoutMs, logger } = options;
  return {
    async assertAllowed(raw) {
      if (!URL.canParse(raw)) throw new SignoffError('invalid_input', 'callback.url is not a valid URL.');
      const url = new URL(raw);
      let checked: CheckedTarget;
      try {
        checked = await checkTarget(url, allow, resolve, AbortSignal.timeout(timeoutMs));
      } catch (error) {
        logger.info(
          { target: url.origin, err: error },
          'webhook host does not resolve now; delivery checks it',
        );
        return;
      }
      if (checked.allowed) return;
      // The caller learns that the target is refused, not which address its name has.
      logger.info({ target: url.origin, reason: checked.reason }, 'webhook target refused at create');
      throw new SignoffError(
        'callback_not_allowed',
        'callback.url points to an address this server does not send webhooks to: loopback, link-local, a metadata service, a private network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7), or one SIGNOFF_WEBHOOK_ALLOW does not list. To send webhooks to a host on a private network, its operator lists the host name or its range in SIGNOFF_WEBHOOK_ALLOW.',
      );
    },

    async send(raw, request) {
      const url = new URL(raw);
      const target = url.origin;
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const checked = await checkTarget(url, allow, resolve, signal);
        if (!checked.allowed) {
          logger.warn({ target, reason: checked.reason }, 'webhook target refused at delivery');
          throw new SignoffError('callback_not_allowed', `Webhook at ${target} refused: ${checked.reason}.`);
        }
        return await sendPinned(url, checked.addresses, { ...request, signal });
      } catch (error) {
        if (error instanceof SignoffError) throw error;
        logger.warn({ target, err: error }, 'webhook request failed');
        if (signal.aborted)
          throw new SignoffError('upstream_timeout', `Webhook at ${target} did not answer in time.`, {
            cause: error,
          });
        throw new SignoffError('upstream_failed', `Webhook at ${target} could not be reached.`, {
          cause: error,
        });
      }
    },
  };
}

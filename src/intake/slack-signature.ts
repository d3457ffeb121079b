import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../auth/secrets.js';
import { SignoffError } from '../core/errors.js';
import type { Services } from '../services.js';
import { forgetSlackRequests, recordSlackRequest } from '../store/slack.js';

/** How far a request's timestamp may be from our clock: Slack's own advice, five minutes. */
export const SLACK_SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

export type SlackSignatureCheck = 'ok' | 'stale' | 'mismatch';

/**
 * Checks Slack's v0 signature: HMAC-SHA256 with the signing secret over
 * `v0:{timestamp}:{raw body}`, compared in constant time, and a timestamp within five
 * minutes of `now` (so a captured request cannot be replayed later).
 */
export function checkSlackSignature(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  now: Date;
}): SlackSignatureCheck {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return 'stale';
  if (Math.abs(input.now.getTime() - Number(timestamp) * 1000) > SLACK_SIGNATURE_WINDOW_MS) return 'stale';
  if (!signature || !/^v0=[0-9a-f]{64}$/.test(signature)) return 'mismatch';
  const expected = `v0=${createHmac('sha256', input.secret).update(`v0:${timestamp}:${input.body}`).digest('hex')}`;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(signature)) ? 'ok' : 'mismatch';
}

/**
 * Acts on a signed request once: its signature is remembered for twice the window it can be
 * replayed in, and a second arrival is refused with `replayed`.
 */
export async function acceptSlackRequestOnce(services: Services, signature: string): Promise<void> {
  const now = services.now();
  await forgetSlackRequests(services.db, new Date(now.getTime() - 2 * SLACK_SIGNATURE_WINDOW_MS));
  if (!(await recordSlackRequest(services.db, sha256Hex(signature), now)))
    throw new SignoffError('replayed', 'This request was acted on already.');
}

import { SignoffError } from '../core/errors.js';
import type { CloudFormationCallback } from '../core/model.js';
import { PermanentDeliveryError } from '../outbox/errors.js';
import { type Outcome, truncate } from './outcome.js';

/**
 * PUTs JSON to a CloudFormation pre-signed S3 URL (a WaitConditionHandle or a custom
 * resource's ResponseURL): no Content-Type, which the signature does not cover, and an
 * exact Content-Length. `what` names the target in errors; the URL itself never appears.
 */
export async function putToPresignedUrl(url: string, document: unknown, timeoutMs: number, what: string) {
  const body = Buffer.from(JSON.stringify(document));
  const host = new URL(url).host;
  let response: Response;
  try {
    // A Buffer body makes fetch send Content-Length and no Content-Type.
    response = await fetch(url, {
      method: 'PUT',
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new SignoffError('upstream_failed', `${what} to ${host} failed.`, { cause: error });
  }
  await response.body?.cancel();
  // S3 answers 403 once a pre-signed URL has expired: nothing later can succeed.
  if (response.status === 403)
    throw new PermanentDeliveryError(`${what} to ${host} was refused (HTTP 403; expired?).`);
  if (response.status < 200 || response.status > 299)
    throw new SignoffError('upstream_failed', `${what} to ${host} answered HTTP ${response.status}.`);
  return { host, status: response.status };
}

/** Signals a WaitConditionHandle with the outcome: SUCCESS when approved, FAILURE otherwise. */
export function createCloudFormationResumer(timeoutMs: number) {
  return {
    async resume(callback: CloudFormationCallback, outcome: Outcome) {
      const signal = {
        Status: outcome.approved ? 'SUCCESS' : 'FAILURE',
        Reason: truncate(outcome.summary, 4000),
        UniqueId: outcome.approvalId,
        Data: JSON.stringify({ status: outcome.status, approvalId: outcome.approvalId }),
      };
      const result = await putToPresignedUrl(callback.url, signal, timeoutMs, 'WaitCondition signal');
      return { target: 'cloudformation', ...result };
    },
  };
}

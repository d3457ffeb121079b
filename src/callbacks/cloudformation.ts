import { SignoffError } from '../core/errors.js';
import type { CloudFormationCallback } from '../core/model.js';
import { PermanentDeliveryError } from '../worker/delivery.js';
import { type Outcome, truncate } from './outcome.js';

/**
 * Signals a WaitConditionHandle: an HTTP PUT of the signal JSON to its pre-signed URL, with
 * no Content-Type (the signature does not cover one) and an exact Content-Length.
 */
export function createCloudFormationResumer(timeoutMs: number) {
  return {
    async resume(callback: CloudFormationCallback, outcome: Outcome) {
      const body = Buffer.from(
        JSON.stringify({
          Status: outcome.approved ? 'SUCCESS' : 'FAILURE',
          Reason: truncate(outcome.summary, 4000),
          UniqueId: outcome.approvalId,
          Data: JSON.stringify({ status: outcome.status, approvalId: outcome.approvalId }),
        }),
      );
      const host = new URL(callback.url).host;
      let response: Response;
      try {
        // A Buffer body makes fetch send Content-Length and no Content-Type.
        response = await fetch(callback.url, {
          method: 'PUT',
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new SignoffError('upstream_failed', `WaitCondition signal to ${host} failed.`, {
          cause: error,
        });
      }
      await response.body?.cancel();
      // S3 answers 403 once a pre-signed URL has expired: nothing later can succeed.
      if (response.status === 403)
        throw new PermanentDeliveryError(
          `WaitCondition URL at ${host} refused the signal (HTTP 403; expired?).`,
        );
      if (response.status < 200 || response.status > 299)
        throw new SignoffError(
          'upstream_failed',
          `WaitCondition signal to ${host} answered HTTP ${response.status}.`,
        );
      return { target: 'cloudformation', host, status: response.status };
    },
  };
}

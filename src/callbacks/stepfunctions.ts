import type { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { StepFunctionsCallback } from '../core/model.js';
import { classifyAwsError, regionalClients } from './aws.js';
import { type Outcome, truncate } from './outcome.js';

/** The SDK, loaded by the first resume or heartbeat rather than at start. */
const loadSdk = () => import('@aws-sdk/client-sfn');

const MAX_OUTPUT_BYTES = 256 * 1024;

/** The task output; decisions' comments are dropped if the whole would pass Step Functions' 256 KB. */
function taskOutput(outcome: Outcome): string {
  const full = JSON.stringify({
    approved: outcome.approved,
    status: outcome.status,
    approvalId: outcome.approvalId,
    summary: outcome.summary,
    inputs: outcome.inputs,
    decisions: outcome.decisions,
  });
  if (Buffer.byteLength(full) <= MAX_OUTPUT_BYTES) return full;
  return JSON.stringify({
    approved: outcome.approved,
    status: outcome.status,
    approvalId: outcome.approvalId,
    summary: truncate(outcome.summary, 1000),
    inputs: outcome.inputs,
    decisions: outcome.decisions.slice(0, 100).map(({ comment: _comment, ...rest }) => rest),
  });
}

/** Resumes a Step Functions task: SendTaskSuccess, or SendTaskFailure with failOnReject. */
export function createStepFunctionsResumer(timeoutMs: number) {
  const clientFor = regionalClients(async () => (await loadSdk()).SFNClient, timeoutMs);
  return {
    async resume(callback: StepFunctionsCallback, outcome: Outcome) {
      const fail = callback.failOnReject === true && !outcome.approved;
      const { SendTaskFailureCommand, SendTaskSuccessCommand } = await loadSdk();
      const command = fail
        ? new SendTaskFailureCommand({
            taskToken: callback.taskToken,
            error: `signoff.${outcome.status === 'expired' ? 'Expired' : outcome.status === 'cancelled' ? 'Cancelled' : 'Rejected'}`,
            cause: truncate(outcome.summary, 32_000),
          })
        : new SendTaskSuccessCommand({ taskToken: callback.taskToken, output: taskOutput(outcome) });
      try {
        const client = await clientFor(callback.region);
        await client.send(command as SendTaskSuccessCommand);
      } catch (error) {
        throw classifyAwsError(error, fail ? 'SendTaskFailure' : 'SendTaskSuccess');
      }
      return { target: 'stepfunctions', call: fail ? 'SendTaskFailure' : 'SendTaskSuccess' };
    },
    /** Tells Step Functions the task is still alive while people decide. */
    async heartbeat(callback: StepFunctionsCallback) {
      const { SendTaskHeartbeatCommand } = await loadSdk();
      try {
        const client = await clientFor(callback.region);
        await client.send(new SendTaskHeartbeatCommand({ taskToken: callback.taskToken }));
      } catch (error) {
        throw classifyAwsError(error, 'SendTaskHeartbeat');
      }
    },
  };
}

import type { CodePipelineCallback } from '../core/model.js';
import { classifyAwsError, regionalClients } from './aws.js';
import { type Outcome, truncate } from './outcome.js';

/** The SDK, loaded by the first resume rather than at start. */
const loadSdk = () => import('@aws-sdk/client-codepipeline');

/** Resumes a CodePipeline manual-approval action with PutApprovalResult (Approved or Rejected). */
export function createCodePipelineResumer(timeoutMs: number) {
  const clientFor = regionalClients(async () => (await loadSdk()).CodePipelineClient, timeoutMs);
  return {
    async resume(callback: CodePipelineCallback, outcome: Outcome) {
      const status = outcome.approved ? 'Approved' : 'Rejected';
      const { PutApprovalResultCommand } = await loadSdk();
      try {
        const client = await clientFor(callback.region);
        await client.send(
          new PutApprovalResultCommand({
            pipelineName: callback.pipelineName,
            stageName: callback.stageName,
            actionName: callback.actionName,
            token: callback.token,
            result: { status, summary: truncate(outcome.summary, 512) },
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, `PutApprovalResult for ${callback.pipelineName}/${callback.stageName}`);
      }
      return { target: 'codepipeline', pipeline: callback.pipelineName, status };
    },
  };
}

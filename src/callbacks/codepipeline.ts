import { CodePipelineClient, PutApprovalResultCommand } from '@aws-sdk/client-codepipeline';
import type { CodePipelineCallback } from '../core/model.js';
import { awsClientOptions, classifyAwsError } from './aws-errors.js';
import { type Outcome, truncate } from './outcome.js';

/** Resumes a CodePipeline manual-approval action with PutApprovalResult (Approved or Rejected). */
export function createCodePipelineResumer(timeoutMs: number) {
  const clients = new Map<string, CodePipelineClient>();
  const clientFor = (region: string | undefined) => {
    const key = region ?? '';
    let client = clients.get(key);
    if (!client) {
      client = new CodePipelineClient(awsClientOptions(region, timeoutMs));
      clients.set(key, client);
    }
    return client;
  };
  return {
    async resume(callback: CodePipelineCallback, outcome: Outcome) {
      const status = outcome.approved ? 'Approved' : 'Rejected';
      try {
        await clientFor(callback.region).send(
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

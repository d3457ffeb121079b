import { queueHeartbeat } from '../approvals/messages.js';
import { CALLBACK_EVENTS } from '../core/audit.js';
import type { Callback } from '../core/model.js';
import { pendingApproval } from '../core/stages.js';
import { PermanentDeliveryError } from '../outbox/errors.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { Services } from '../services.js';
import { findApproval, replaceCallback } from '../store/approvals.js';
import { runUnitOfWork } from '../unit-of-work/context.js';
import { createCloudFormationResumer } from './cloudformation.js';
import { createCodePipelineResumer } from './codepipeline.js';
import { outcomeOf } from './outcome.js';
import { createStepFunctionsResumer } from './stepfunctions.js';

/** What is left of a callback once the workflow was resumed: the secret parts are dropped. */
function withoutSecrets(callback: Callback): Callback {
  switch (callback.type) {
    case 'codepipeline':
      return { ...callback, token: '[used]' };
    case 'stepfunctions':
      return { ...callback, taskToken: '[used]' };
    case 'cloudformation':
      return { ...callback, url: `${new URL(callback.url).origin}/[used]` };
    default:
      return callback;
  }
}

/**
 * Resumes the workflow waiting on an approval (CodePipeline, Step Functions, CloudFormation);
 * its token or pre-signed URL is kept only until then. Also keeps waiting Step Functions
 * tasks alive with heartbeats.
 */
export function createWorkflowHandlers(services: Services): {
  resume: OutboxHandler<'resume'>;
  heartbeat: OutboxHandler<'heartbeat'>;
} {
  const timeoutMs = services.config.httpTimeoutMs;
  const codepipeline = createCodePipelineResumer(timeoutMs);
  const stepfunctions = createStepFunctionsResumer(timeoutMs);
  const cloudformation = createCloudFormationResumer(timeoutMs);
  const resume: OutboxHandler<'resume'> = {
    events: CALLBACK_EVENTS,
    async deliver({ payload: { approvalId, data } }) {
      const callback = (await findApproval(services.db, approvalId))?.callback;
      if (!callback || callback.type === 'webhook' || callback.type === 'github')
        throw new PermanentDeliveryError('The approval has no workflow to resume.');
      const outcome = outcomeOf(data);
      let report: Record<string, unknown>;
      try {
        if (callback.type === 'codepipeline') report = await codepipeline.resume(callback, outcome);
        else if (callback.type === 'stepfunctions') report = await stepfunctions.resume(callback, outcome);
        else report = await cloudformation.resume(callback, outcome);
      } catch (error) {
        // A final refusal means the token or URL will never be used again: do not keep it.
        if (error instanceof PermanentDeliveryError)
          await replaceCallback(services.db, approvalId, withoutSecrets(callback));
        throw error;
      }
      await replaceCallback(services.db, approvalId, withoutSecrets(callback));
      return report;
    },
  };
  const heartbeat: OutboxHandler<'heartbeat'> = {
    events: CALLBACK_EVENTS,
    async deliver({ payload: { approvalId, sequence } }) {
      const pending = pendingApproval(await findApproval(services.db, approvalId));
      if ('skipped' in pending) return pending;
      const { approval } = pending;
      // Queued only for a Step Functions task, whose callback keeps its type once resumed.
      if (approval.callback?.type !== 'stepfunctions') return { skipped: 'approval is no longer pending' };
      await stepfunctions.heartbeat(approval.callback);
      await runUnitOfWork(services, (unit) => queueHeartbeat(unit, approval, sequence + 1));
      return { silent: true };
    },
  };
  return { resume, heartbeat };
}

import { queueSlackUpdates } from '../approvals/slack-messages.js';
import { NOTIFICATION_EVENTS } from '../core/audit.js';
import { normalizeIdentity } from '../core/identity.js';
import { waitingStage } from '../core/stages.js';
import { PermanentDeliveryError } from '../outbox/errors.js';
import type { OutboxHandler } from '../outbox/handler.js';
import type { SlackApi } from '../ports.js';
import type { Services } from '../services.js';
import { findApproval, lockApproval } from '../store/approvals.js';
import { findSlackMessage, findSlackMessageFor, insertSlackMessage } from '../store/slack.js';
import { runUnitOfWork } from '../unit-of-work/context.js';
import { escapeSlackText, renderSlackMessage } from './slack-blocks.js';
import { slackPerson } from './slack-people.js';

/**
 * Posts a stage's message to a channel or, by direct message, to an approver found by
 * email. Each post is recorded, so every later change of the approval updates it.
 */
export function createSlackPostHandler(services: Services, slack: SlackApi): OutboxHandler<'slack-post'> {
  return {
    events: NOTIFICATION_EVENTS,
    // A post given up on reaches the waiting side: to a person (by address) or to a channel.
    recipient: ({ payload }) => ({ channel: 'slack', to: payload.to }),
    async deliver({ payload: { approvalId, stage, to, direct } }) {
      const waiting = waitingStage(await findApproval(services.db, approvalId), stage);
      if ('skipped' in waiting) return waiting;
      const { approval } = waiting;
      if (await findSlackMessageFor(services.db, approvalId, stage, to)) return { skipped: 'already posted' };
      if (direct && approval.decisions.some((d) => d.stage === stage && d.actor === to))
        return { skipped: 'approver has already decided' };
      let channel = to;
      if (direct) {
        const user = await slack.lookupUserByEmail(to);
        if (!user) throw new PermanentDeliveryError('Slack has no user with this email.');
        // Only to whom a click would count as this approver: Slack also finds accounts of other
        // organisations (Slack Connect), deactivated ones and bots by email, and a direct message
        // would show them the whole request.
        if (
          (await slackPerson(slack, user, services.config.identity)) !==
          normalizeIdentity(to, services.config.identity)
        )
          throw new PermanentDeliveryError(
            "Slack's account with this email is not a person of this workspace who could decide.",
          );
        channel = user;
      }
      const message = renderSlackMessage(approval, stage);
      const posted = await slack.postMessage({ channel, ...message });
      await runUnitOfWork(services, async (unit) => {
        // Taken first: a change of the approval either commits before this reads it below, or
        // waits for this message to be recorded and then finds it to update.
        await lockApproval(unit.db, approvalId);
        const recorded = await insertSlackMessage(unit.db, {
          id: unit.newId('slk'),
          approvalId,
          stage,
          recipient: to,
          channel: posted.channel,
          ts: posted.ts,
          postedAt: unit.now,
        });
        // A change committed while this was posted found no message to update: update it now.
        const fresh = await findApproval(unit.db, approvalId);
        if (recorded && fresh && fresh.version !== approval.version)
          await queueSlackUpdates(unit, approvalId, null, { stage });
      });
      return { channel: 'slack', to, stage, ts: posted.ts };
    },
  };
}

/**
 * Brings a posted message up to date with the approval as it is at delivery (buttons give
 * way to the outcome), then replies in its thread with what changed.
 */
export function createSlackSyncHandler(services: Services, slack: SlackApi): OutboxHandler<'slack-sync'> {
  return {
    events: NOTIFICATION_EVENTS,
    async deliver({ payload: { approvalId, messageId, note } }) {
      const [approval, message] = await Promise.all([
        findApproval(services.db, approvalId),
        findSlackMessage(services.db, messageId),
      ]);
      if (!approval || !message) return { skipped: 'message is gone', silent: true };
      await slack.updateMessage({
        channel: message.channel,
        ts: message.ts,
        ...renderSlackMessage(approval, message.stage),
      });
      if (note)
        await slack.postMessage({
          channel: message.channel,
          threadTs: message.ts,
          text: escapeSlackText(note),
        });
      return { channel: 'slack', to: message.recipient, stage: message.stage, updated: message.ts };
    },
  };
}

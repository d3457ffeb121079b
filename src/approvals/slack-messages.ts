import type { Approval, Decision } from '../core/model.js';
import { approversToNotify, currentStage, evaluateStages } from '../core/stages.js';
import { enqueue } from '../outbox/enqueue.js';
import { listSlackMessages } from '../store/slack.js';
import type { UnitOfWork } from '../unit-of-work/context.js';

/**
 * Queues the Slack messages of the stage that waits now, if it asked for Slack: one per
 * channel, and one direct message per approver still to decide (or only to `only`).
 */
export async function queueSlackPosts(
  unit: UnitOfWork,
  approval: Approval,
  options: { only?: ReadonlySet<string> } = {},
): Promise<void> {
  const stage = currentStage(approval);
  if (stage?.type !== 'human' || !stage.slack) return;
  const base = { approvalId: approval.id, stage: stage.name };
  if (!options.only)
    for (const channel of stage.slack.channels)
      await enqueue(unit, 'slack-post', { ...base, to: channel, direct: false });
  if (!stage.slack.directMessages) return;
  for (const approver of approversToNotify(approval))
    if (!options.only || options.only.has(approver))
      await enqueue(unit, 'slack-post', { ...base, to: approver, direct: true });
}

/**
 * Queues an update of every Slack message of the approval (or of one stage's), each with
 * `note` as its thread reply.
 */
export async function queueSlackUpdates(
  unit: UnitOfWork,
  approvalId: string,
  note: string | null,
  options: { stage?: string } = {},
): Promise<void> {
  for (const message of await listSlackMessages(unit.db, approvalId))
    if (options.stage === undefined || message.stage === options.stage)
      await enqueue(unit, 'slack-sync', { approvalId, messageId: message.id, note });
}

const ENDINGS = {
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
} as const;

/** What changed between two states of an approval, as the lines of a thread reply. */
export function describeChange(before: Approval, after: Approval, decision?: Decision): string | null {
  const lines: string[] = [];
  if (decision)
    lines.push(
      `${decision.actor} ${decision.verdict === 'approve' ? 'approved' : 'rejected'} (stage ${decision.stage}, via ${decision.via})${decision.comment ? `: ${decision.comment}` : ''}`,
    );
  for (const escalation of after.escalations.slice(before.escalations.length))
    lines.push(`Escalated: ${escalation.approvers.join(', ')} may now decide stage ${escalation.stage}.`);
  for (const result of after.results.slice(before.results.length))
    lines.push(`Stage ${result.stage}: ${result.outcome} (${result.via}): ${result.reason}`);
  const was = new Map(evaluateStages(before).map((s) => [s.name, s.status]));
  for (const stage of evaluateStages(after))
    if (stage.status === 'passed' && was.get(stage.name) !== 'passed' && after.status === 'pending')
      lines.push(`Stage ${stage.name} passed.`);
  if (after.status !== 'pending' && before.status === 'pending')
    lines.push(`${ENDINGS[after.status]}.${after.reason ? ` ${after.reason}` : ''}`);
  return lines.length > 0 ? lines.join('\n') : null;
}

/**
 * Brings every Slack message of a changed approval up to date, in the transaction of the
 * change: any channel's decision, a stage passing, an escalation, the end.
 */
export async function queueSlackSync(
  unit: UnitOfWork,
  change: { before: Approval; after: Approval; decision?: Decision | undefined },
): Promise<void> {
  await queueSlackUpdates(
    unit,
    change.after.id,
    describeChange(change.before, change.after, change.decision),
  );
}

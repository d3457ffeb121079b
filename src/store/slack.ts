import type { Db } from './database.js';
import { hotStatement } from './hot-statement.js';
import type { SlackMessageRow } from './schema.js';

export interface NewSlackMessage {
  readonly id: string;
  readonly approvalId: string;
  readonly stage: string;
  readonly recipient: string;
  readonly channel: string;
  readonly ts: string;
  readonly postedAt: Date;
}

/** Records a posted message; false when one for this stage and recipient was recorded already. */
export async function insertSlackMessage(db: Db, message: NewSlackMessage): Promise<boolean> {
  const result = await db
    .insertInto('slack_messages')
    .values({
      id: message.id,
      approval_id: message.approvalId,
      stage: message.stage,
      recipient: message.recipient,
      channel: message.channel,
      ts: message.ts,
      posted_at: message.postedAt.getTime(),
    })
    .onConflict((c) => c.columns(['approval_id', 'stage', 'recipient']).doNothing())
    .executeTakeFirst();
  return result.numInsertedOrUpdatedRows === 1n;
}

/** The message posted for one stage and recipient, if any. */
export async function findSlackMessageFor(
  db: Db,
  approvalId: string,
  stage: string,
  recipient: string,
): Promise<SlackMessageRow | undefined> {
  return db
    .selectFrom('slack_messages')
    .selectAll()
    .where('approval_id', '=', approvalId)
    .where('stage', '=', stage)
    .where('recipient', '=', recipient)
    .executeTakeFirst();
}

/** One posted message by id. */
export async function findSlackMessage(db: Db, id: string): Promise<SlackMessageRow | undefined> {
  return db.selectFrom('slack_messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every message posted for an approval, oldest first. */
export async function listSlackMessages(db: Db, approvalId: string): Promise<SlackMessageRow[]> {
  return (await selectSlackMessages(db, [approvalId])).rows;
}

// Every change of every approval asks, Slack or not.
const selectSlackMessages = hotStatement<SlackMessageRow>(
  'select id, approval_id, stage, recipient, channel, ts, posted_at from slack_messages where approval_id = ? order by posted_at, id',
);

/** Forgets signatures older than `before`: the timestamp check refuses their requests anyway. */
export async function forgetSlackRequests(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('slack_requests').where('seen_at', '<', before.getTime()).execute();
}

/** Records an interaction request's signature hash; false when it was seen before (a replay). */
export async function recordSlackRequest(db: Db, signature: string, now: Date): Promise<boolean> {
  const result = await db
    .insertInto('slack_requests')
    .values({ signature, seen_at: now.getTime() })
    .onConflict((c) => c.column('signature').doNothing())
    .executeTakeFirst();
  return result.numInsertedOrUpdatedRows === 1n;
}

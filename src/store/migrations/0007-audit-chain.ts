import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { auditHashInput } from '../../core/audit-chain.js';

const BATCH = 500;

interface Row {
  id: string;
  approval_id: string;
  type: string;
  actor: string | null;
  data: string;
  at: number | string;
}

/**
 * Chains every approval's audit trail: each event gets its place (`seq`), the hash of the event
 * before it and its own hash (src/core/audit-chain.ts). Existing events are chained in the order
 * they were written (by id). The unique (approval_id, seq) index is what the last event of an
 * approval is found by, and what refuses a second event chained onto the same one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('seq', 'integer').execute();
  await db.schema.alterTable('audit_events').addColumn('prev_hash', 'varchar(64)').execute();
  await db.schema.alterTable('audit_events').addColumn('hash', 'varchar(64)').execute();
  const audit = db as Kysely<{ audit_events: Row & { seq: number; prev_hash: string | null; hash: string } }>;
  let last: { approvalId: string; seq: number; hash: string } | undefined;
  let after = { approvalId: '', id: '' };
  for (;;) {
    const rows = await audit
      .selectFrom('audit_events')
      .select(['id', 'approval_id', 'type', 'actor', 'data', 'at'])
      .where((eb) =>
        eb.or([
          eb('approval_id', '>', after.approvalId),
          eb.and([eb('approval_id', '=', after.approvalId), eb('id', '>', after.id)]),
        ]),
      )
      .orderBy('approval_id')
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const row of rows) {
      const seq = last?.approvalId === row.approval_id ? last.seq + 1 : 1;
      const prevHash = seq === 1 ? null : (last?.hash ?? null);
      const hash = createHash('sha256')
        .update(
          auditHashInput({
            id: row.id,
            approvalId: row.approval_id,
            seq,
            type: row.type,
            actor: row.actor,
            data: JSON.parse(row.data),
            at: Number(row.at),
            prevHash,
          }),
        )
        .digest('hex');
      await audit
        .updateTable('audit_events')
        .set({ seq, prev_hash: prevHash, hash })
        .where('id', '=', row.id)
        .execute();
      last = { approvalId: row.approval_id, seq, hash };
    }
    const end = rows.at(-1);
    if (!end || rows.length < BATCH) break;
    after = { approvalId: end.approval_id, id: end.id };
  }
  await sql`create unique index audit_events_chain on audit_events (approval_id, seq)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_events_chain').execute();
  await db.schema.alterTable('audit_events').dropColumn('hash').execute();
  await db.schema.alterTable('audit_events').dropColumn('prev_hash').execute();
  await db.schema.alterTable('audit_events').dropColumn('seq').execute();
}

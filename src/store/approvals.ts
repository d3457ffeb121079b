import { sql } from 'kysely';
import { canonicalJson } from '../core/canonical-json.js';
import type { Approval, ApprovalStatus, Callback, Decision } from '../core/model.js';
import {
  APPROVAL_COLUMNS,
  DECISION_COLUMNS,
  type DecisionTuple,
  decisionRowsOf,
  placeholdersFor,
  serializeProgress,
  toApproval,
} from './approval-rows.js';
import { type Db, isPostgres } from './database.js';
import { hotStatement } from './hot-statement.js';
import type { ApprovalRow, DecisionRow } from './schema.js';

export interface IdempotencyTag {
  readonly owner: string;
  readonly key: string;
  readonly requestHash: string;
}

/** Inserts a new approval (without decisions). */
export async function insertApproval(
  db: Db,
  approval: Approval,
  idempotency?: IdempotencyTag,
): Promise<void> {
  // In APPROVAL_COLUMNS order.
  await insertApprovalRow(db, [
    approval.id,
    approval.status,
    approval.title,
    approval.description,
    approval.link,
    JSON.stringify(approval.metadata),
    approval.requester,
    JSON.stringify(approval.policy),
    approval.callback ? JSON.stringify(approval.callback) : null,
    JSON.stringify(approval.notify),
    approval.createdAt.getTime(),
    approval.expiresAt.getTime(),
    approval.decidedAt?.getTime() ?? null,
    approval.reason,
    approval.version,
    idempotency?.owner ?? null,
    idempotency?.key ?? null,
    idempotency?.requestHash ?? null,
    approval.supersedeKey,
    serializeProgress(approval),
    approval.owner,
    approval.requesterToken?.issuer ?? null,
    approval.requesterToken?.subject ?? null,
    approval.action ? canonicalJson(approval.action.content) : null,
    approval.action?.hash ?? null,
    approval.policyVersion,
  ]);
}

/**
 * Writes a new status only if nobody else changed the approval since it was read
 * (optimistic concurrency on `version`). Returns false when the caller lost the race.
 */
export async function updateApprovalState(db: Db, approval: Approval, readVersion: number): Promise<boolean> {
  const result = await updateState(db, [
    approval.status,
    approval.decidedAt?.getTime() ?? null,
    approval.reason,
    serializeProgress(approval),
    readVersion + 1,
    approval.id,
    readVersion,
  ]);
  return result.numAffectedRows === 1n;
}

const updateState = hotStatement(
  `update approvals set status = ?, decided_at = ?, reason = ?, progress = ?, version = ?
   where id = ? and version = ?`,
);

/** Replaces an approval's callback, e.g. to drop a task token once it has been used. */
export async function replaceCallback(db: Db, id: string, callback: Callback): Promise<void> {
  await db
    .updateTable('approvals')
    .set({ callback: JSON.stringify(callback) })
    .where('id', '=', id)
    .execute();
}

const insertApprovalRow = hotStatement(
  `insert into approvals (${APPROVAL_COLUMNS}) values (${placeholdersFor(APPROVAL_COLUMNS)})`,
);
const selectApproval = hotStatement<ApprovalRow>(`select ${APPROVAL_COLUMNS} from approvals where id = ?`);
const selectDecisions = hotStatement<DecisionRow>(
  `select approval_id, ${DECISION_COLUMNS} from decisions where approval_id = ? order by at, id`,
);
const selectApprovalWithDecisions = hotStatement<ApprovalRow & { decisions: DecisionTuple[] }>(
  `select ${APPROVAL_COLUMNS}, (select coalesce(json_agg(json_build_array(${DECISION_COLUMNS}) order by at, id), '[]')
   from decisions where approval_id = approvals.id) as decisions from approvals where id = ?`,
);

/**
 * Loads one approval with its decisions. PostgreSQL answers both in one round trip; SQLite,
 * in process, reads two indexed rows faster than it builds and parses the JSON that would join them.
 */
export async function findApproval(db: Db, id: string): Promise<Approval | undefined> {
  if (!isPostgres(db)) {
    const row = (await selectApproval(db, [id])).rows[0];
    return row && toApproval(row, (await selectDecisions(db, [id])).rows);
  }
  const row = (await selectApprovalWithDecisions(db, [id])).rows[0];
  if (!row) return undefined;
  return toApproval(row, decisionRowsOf(row.id, row.decisions));
}

/** Whether an approval with this id is stored; its row is not read, so a damaged one counts too. */
export async function approvalExists(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('approvals').select('id').where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}

/**
 * Holds, until the caller's transaction ends, the right to create with this owner and key:
 * creates with one key queue up instead of racing (PostgreSQL; SQLite has one writer anyway).
 */
export async function lockSupersedeKey(db: Db, owner: string, key: string): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${`${owner} ${key}`}, 0))`.execute(db);
}

/** Ids of the owner's pending approvals with this supersede key (oldest first). */
export async function findPendingIdsByKey(db: Db, owner: string, key: string): Promise<string[]> {
  const rows = await db
    .selectFrom('approvals')
    .select('id')
    .where('supersede_key', '=', key)
    .where('owner', '=', owner)
    .where('status', '=', 'pending')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Finds the approval an earlier request with the same idempotency key created. */
export async function findApprovalByIdempotencyKey(db: Db, owner: string, key: string) {
  return db
    .selectFrom('approvals')
    .select(['id', 'request_hash'])
    .where('idempotency_owner', '=', owner)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

/** Which approvals a page lists; every condition narrows. */
export interface ApprovalFilter {
  readonly status?: ApprovalStatus | undefined;
  /** Only approvals no longer pending. */
  readonly ended?: boolean | undefined;
  readonly requester?: string | undefined;
  /** Only approvals of these owner scopes (hashed, as stored), read through the approvals_owner index. */
  readonly owners?: readonly string[] | undefined;
  /** Only approvals this identity decided on (read through the decisions_actor index). */
  readonly decidedBy?: string | undefined;
  /** Only approvals whose title contains this text, ignoring case. */
  readonly titleContains?: string | undefined;
  readonly before?: string | undefined;
  readonly limit: number;
}

/** `%`, `_` and the escape itself match literally in a LIKE pattern. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** One page of approvals, newest first, strictly older than `before` (an id cursor). */
export async function listApprovals(db: Db, options: ApprovalFilter): Promise<Approval[]> {
  let query = db.selectFrom('approvals').selectAll('approvals');
  if (options.decidedBy !== undefined) {
    const decidedBy = options.decidedBy;
    query = query.where('approvals.id', 'in', (sub) =>
      sub.selectFrom('decisions').select('decisions.approval_id').where('decisions.actor', '=', decidedBy),
    );
  }
  if (options.status) query = query.where('approvals.status', '=', options.status);
  if (options.ended) query = query.where('approvals.status', '!=', 'pending');
  if (options.requester !== undefined) query = query.where('approvals.requester', '=', options.requester);
  if (options.owners !== undefined) query = query.where('approvals.owner', 'in', [...options.owners]);
  if (options.titleContains)
    query = query.where(
      sql<string>`lower(approvals.title)`,
      'like',
      sql<string>`${likePattern(options.titleContains)} escape '\\'`,
    );
  if (options.before) query = query.where('approvals.id', '<', options.before);
  const rows = await query.orderBy('approvals.id', 'desc').limit(options.limit).execute();
  return withDecisions(db, rows);
}

/** Approvals from their rows, with every decision of each read in one statement. */
export async function withDecisions(db: Db, rows: readonly ApprovalRow[]): Promise<Approval[]> {
  if (rows.length === 0) return [];
  const decisions = await db
    .selectFrom('decisions')
    .selectAll()
    .where(
      'approval_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('at')
    .orderBy('id')
    .execute();
  const byApproval = new Map<string, DecisionRow[]>();
  for (const d of decisions) {
    const list = byApproval.get(d.approval_id);
    if (list) list.push(d);
    else byApproval.set(d.approval_id, [d]);
  }
  return rows.map((row) => toApproval(row, byApproval.get(row.id) ?? []));
}

/**
 * Locks one pending approval whose expiry has passed (oldest first) for the caller's
 * transaction. On PostgreSQL, rows another instance is expiring are skipped.
 */
export async function claimDueApprovalId(db: Db, now: Date): Promise<string | undefined> {
  const row = await db
    .selectFrom('approvals')
    .select('id')
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now.getTime())
    .orderBy('expires_at')
    .limit(1)
    .$if(isPostgres(db), (query) => query.forUpdate().skipLocked())
    .executeTakeFirst();
  return row?.id;
}

/** Records one decision. The unique index makes a second vote by the same person fail. */
export async function insertDecision(db: Db, approvalId: string, decision: Decision): Promise<void> {
  await insertDecisionRow(db, [
    approvalId,
    decision.id,
    decision.stage,
    decision.actor,
    JSON.stringify(decision.groups),
    decision.verdict,
    decision.comment,
    decision.via,
    decision.ip,
    decision.at.getTime(),
    decision.issuer,
    decision.subject,
    decision.inputs === null ? null : JSON.stringify(decision.inputs),
    decision.onBehalfOf,
  ]);
}

const insertDecisionRow = hotStatement(
  `insert into decisions (approval_id, ${DECISION_COLUMNS}) values (${placeholdersFor(`approval_id, ${DECISION_COLUMNS}`)})`,
);

/**
 * Holds the approval's row until the transaction ends: a transaction that changes the approval
 * waits for this one, and this one sees its change once it has committed. SQLite runs one write
 * transaction at a time, so it has nothing to lock.
 */
export async function lockApproval(db: Db, approvalId: string): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select id from approvals where id = ${approvalId} for update`.execute(db);
}

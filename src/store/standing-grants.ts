import type { ApprovalStatus } from '../core/model.js';
import type { GrantMatch, StandingGrant } from '../core/standing-grant.js';
import type { Db } from './database.js';
import type { StandingGrantRow } from './schema.js';

type GrantRow = StandingGrantRow & { granted_on_status: string };

/** The grant's columns and the status of the approval it was granted on. */
function grants(db: Db) {
  return db
    .selectFrom('standing_grants')
    .innerJoin('approvals', 'approvals.id', 'standing_grants.approval_id')
    .selectAll('standing_grants')
    .select('approvals.status as granted_on_status');
}

function toGrant(row: GrantRow): StandingGrant {
  const at = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)));
  return {
    id: row.id,
    approvalId: row.approval_id,
    grantedOnStatus: row.granted_on_status as ApprovalStatus,
    granter: {
      id: row.granter,
      groups: JSON.parse(row.granter_groups) as string[],
      issuer: row.granter_issuer ?? undefined,
      subject: row.granter_subject ?? undefined,
    },
    requester: row.requester,
    owner: row.owner,
    policyHash: row.policy_hash,
    stage: row.stage,
    match: row.match as GrantMatch,
    actionHash: row.action_hash,
    tool: row.tool,
    maxUses: Number(row.max_uses),
    uses: Number(row.uses),
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    revokedAt: at(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

export async function insertStandingGrant(db: Db, grant: StandingGrant): Promise<void> {
  await db
    .insertInto('standing_grants')
    .values({
      id: grant.id,
      approval_id: grant.approvalId,
      granter: grant.granter.id,
      granter_groups: JSON.stringify(grant.granter.groups),
      granter_issuer: grant.granter.issuer ?? null,
      granter_subject: grant.granter.subject ?? null,
      requester: grant.requester,
      owner: grant.owner,
      policy_hash: grant.policyHash,
      stage: grant.stage,
      match: grant.match,
      action_hash: grant.actionHash,
      tool: grant.tool,
      max_uses: grant.maxUses,
      uses: grant.uses,
      created_at: grant.createdAt.getTime(),
      expires_at: grant.expiresAt.getTime(),
      revoked_at: null,
      revoked_by: null,
    })
    .execute();
}

/**
 * Grants for requests of `owner` that still run at `now` and whose approval was approved
 * (oldest first); uses left are checked by the caller.
 */
export async function findLiveGrantsFor(db: Db, owner: string, now: Date): Promise<StandingGrant[]> {
  const rows = await grants(db)
    .where('standing_grants.owner', '=', owner)
    .where('standing_grants.expires_at', '>', now.getTime())
    .where('standing_grants.revoked_at', 'is', null)
    .where('approvals.status', '=', 'approved')
    .orderBy('standing_grants.created_at')
    .orderBy('standing_grants.id')
    .execute();
  return rows.map(toGrant);
}

/**
 * Counts one use of a grant if it has one left and still runs, and answers which use it is;
 * undefined when another request took the last use, it ran out or was revoked meanwhile.
 */
export async function takeGrantUse(db: Db, id: string, now: Date): Promise<number | undefined> {
  const row = await db
    .updateTable('standing_grants')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now.getTime())
    .whereRef('uses', '<', 'max_uses')
    .returning('uses')
    .executeTakeFirst();
  return row && Number(row.uses);
}

export async function findStandingGrant(db: Db, id: string): Promise<StandingGrant | undefined> {
  const row = await grants(db).where('standing_grants.id', '=', id).executeTakeFirst();
  return row && toGrant(row);
}

/** Ends a grant at `now`; false when it was already revoked. */
export async function revokeStandingGrantRow(db: Db, id: string, by: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('standing_grants')
    .set({ revoked_at: now.getTime(), revoked_by: by })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Grants newest first: those `person` made or that are for their requests, or every grant
 * when no person is given (an admin's list).
 */
export async function listStandingGrants(
  db: Db,
  filter: { person?: string | undefined; limit: number },
): Promise<StandingGrant[]> {
  const { person } = filter;
  const rows = await grants(db)
    .$if(person !== undefined, (query) =>
      query.where((eb) =>
        eb.or([
          eb('standing_grants.granter', '=', person ?? ''),
          eb('standing_grants.requester', '=', person ?? ''),
        ]),
      ),
    )
    .orderBy('standing_grants.created_at', 'desc')
    .orderBy('standing_grants.id', 'desc')
    .limit(filter.limit)
    .execute();
  return rows.map(toGrant);
}

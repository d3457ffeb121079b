import type { Actor, Approval, ApprovalStatus } from '../core/model.js';
import { currentStage, effectiveGates, isRequester, matchesApprover } from '../core/stages.js';
import { listApprovals } from '../store/approvals.js';
import type { Db } from '../store/database.js';

/** The three lists of the inbox, and of `GET /v1/approvals?waiting_for=me|requested_by=me`. */
export type InboxTab = 'waiting' | 'requested' | 'history';

export interface InboxQuery {
  readonly tab: InboxTab;
  readonly status?: ApprovalStatus | undefined;
  readonly requester?: string | undefined;
  /** `key` or `key=value`: only approvals whose metadata has that key (with that value). */
  readonly metadata?: string | undefined;
  readonly search?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

export interface InboxPage {
  readonly items: Approval[];
  readonly nextCursor: string | null;
}

/**
 * Whether the stage that waits now names this person (by identity or group) and they have
 * not decided on it, and they are not its requester (they could not approve it anyway).
 */
export function isWaitingFor(approval: Approval, person: Actor): boolean {
  const stage = currentStage(approval);
  if (stage?.type !== 'human') return false;
  if (!approval.policy.allowSelfApproval && isRequester(approval, { actor: person.id, ...person }))
    return false;
  if (approval.decisions.some((d) => d.stage === stage.name && d.actor === person.id)) return false;
  return effectiveGates(approval, stage).some((gate) =>
    gate.approvers.some((entry) => matchesApprover(entry, person)),
  );
}

/** Whether this person has any part in an approval: asked, asked for, or decided. */
export function isInvolved(approval: Approval, person: Actor): boolean {
  if (isRequester(approval, { actor: person.id, ...person })) return true;
  if (approval.decisions.some((d) => d.actor === person.id)) return true;
  return approval.policy.stages.some(
    (stage) =>
      stage.type === 'human' &&
      effectiveGates(approval, stage).some((gate) => gate.approvers.some((e) => matchesApprover(e, person))),
  );
}

function matchesMetadata(approval: Approval, filter: string | undefined): boolean {
  if (!filter) return true;
  const at = filter.indexOf('=');
  const key = at === -1 ? filter : filter.slice(0, at);
  if (!Object.hasOwn(approval.metadata, key)) return false;
  return at === -1 || String(approval.metadata[key]) === filter.slice(at + 1);
}

// Pending approvals are read in batches by the status index and matched to the person here:
// who is asked lives in each approval's policy (groups, escalations, the stage reached).
const BATCH = 200;
// A page never reads more than this many rows, however few of them match.
const MAX_SCANNED = 5000;

/** One page of an inbox list, newest first. */
export async function queryInbox(db: Db, person: Actor, query: InboxQuery): Promise<InboxPage> {
  if (query.tab === 'waiting' && query.status && query.status !== 'pending')
    return { items: [], nextCursor: null };
  const base = {
    titleContains: query.search,
    ...(query.tab === 'waiting' ? { status: 'pending' as const } : { status: query.status }),
    ...(query.tab === 'requested' ? { requester: person.id } : { requester: query.requester }),
    ...(query.tab === 'history' ? { decidedBy: person.id, ended: true } : {}),
  };
  if (query.tab === 'requested' && query.requester && query.requester !== person.id)
    return { items: [], nextCursor: null };
  const keep = (a: Approval) =>
    matchesMetadata(a, query.metadata) && (query.tab !== 'waiting' || isWaitingFor(a, person));
  const items: Approval[] = [];
  let before = query.cursor;
  let scanned = 0;
  while (items.length <= query.limit && scanned < MAX_SCANNED) {
    const batch = await listApprovals(db, { ...base, before, limit: BATCH });
    scanned += batch.length;
    items.push(...batch.filter(keep));
    if (batch.length < BATCH) break;
    before = batch.at(-1)?.id;
  }
  const page = items.slice(0, query.limit);
  // A page cut short by the scan limit goes on from the last row read, matched or not.
  const nextCursor =
    items.length > query.limit ? (page.at(-1)?.id ?? null) : scanned >= MAX_SCANNED ? (before ?? null) : null;
  return { items: page, nextCursor };
}

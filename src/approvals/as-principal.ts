// What a credential may do with approvals, whichever channel it came through (the API, MCP):
// one set of rules for who may ask, read, wait and cancel, so a new channel is a new way in,
// never a second set of rules.
import {
  allowedPolicies,
  hasUnrestrictedPermission,
  ownerScope,
  type Permission,
  type Principal,
  permitsApproval,
} from '../auth/principal.js';
import { sha256Hex } from '../auth/secrets.js';
import { SignoffError } from '../core/errors.js';
import type { Actor, Approval, ApprovalStatus } from '../core/model.js';
import type { Services } from '../services.js';
import { findApproval, listApprovals } from '../store/approvals.js';
import { listAudit, type StoredAuditEvent } from '../store/audit.js';
import { createApproval } from './create.js';
import { queryInbox } from './inbox.js';
import { cancelApproval } from './lifecycle.js';
import { type CreateContext, prepareApproval } from './prepare.js';
import type { CreateApprovalRequest } from './request.js';
import { loadNotificationFailures } from './view.js';
import { waitForDecision } from './wait.js';

/** The longest a caller may wait for a decision in one request. */
export const MAX_WAIT_MS = 60_000;

/** Whom a credential, or a person signed in to the web app, names. */
type Named = Pick<Principal, 'actor' | 'groups' | 'issuer' | 'subject'>;

/**
 * A principal (or a signed-in person) as the one who acts: its identity and groups, and the
 * token that proved them; undefined for a credential that names nobody.
 */
export function actorOf(named: Named & { readonly actor: string }): Actor;
export function actorOf(named: Named): Actor | undefined;
export function actorOf(named: Named): Actor | undefined {
  if (!named.actor) return undefined;
  return { id: named.actor, groups: named.groups, issuer: named.issuer, subject: named.subject };
}

/** What a create by this principal may do and whom it belongs to; refuses what it may not ask. */
function createContextOf(
  principal: Principal,
  request: CreateApprovalRequest,
  idempotencyKey: string | undefined,
): CreateContext {
  if (principal.unidentifiedPerson)
    throw new SignoffError(
      'forbidden',
      'This token names no verified email, so signoff cannot tell its holder from the approvers: ask for approvals with a token that carries one, or mark the permission rule of machine tokens `machine: true`.',
    );
  const metadata = request.metadata ?? {};
  if (!permitsApproval(principal, 'approvals:create', metadata))
    throw new SignoffError(
      'forbidden',
      'This credential may only create approvals whose metadata matches its grant.',
    );
  return {
    actor: principal.actor,
    mayNameRequester: principal.actor === null || hasUnrestrictedPermission(principal, 'admin'),
    mayLoosen: permitsApproval(principal, 'approvals:inline-policy', metadata),
    allowedPolicies: allowedPolicies(principal),
    credentialId: principal.credentialId,
    owner: ownerScope(principal, metadata),
    token:
      principal.issuer && principal.subject
        ? { issuer: principal.issuer, subject: principal.subject }
        : undefined,
    idempotencyKey,
  };
}

/** Asks for an approval as this principal. A repeated idempotency key returns the first one. */
export function requestApprovalAs(
  services: Services,
  principal: Principal,
  request: CreateApprovalRequest,
  idempotencyKey?: string,
): Promise<{ approval: Approval; created: boolean }> {
  return createApproval(services, request, createContextOf(principal, request, idempotencyKey));
}

/**
 * What asking would give, without asking: the request checked as a create checks it and its
 * front rule stages evaluated, so a caller learns whether rules decide it at once.
 */
export function previewApprovalAs(
  services: Services,
  principal: Principal,
  request: CreateApprovalRequest,
): Promise<Approval> {
  return prepareApproval(services, request, createContextOf(principal, request, undefined), services.now());
}

/**
 * Loads an approval the principal may use with `permission`. One a restricted credential
 * may not touch answers like one that does not exist.
 */
export async function loadPermitted(
  services: Services,
  principal: Principal,
  permission: Permission,
  id: string,
): Promise<Approval> {
  const approval = await findApproval(services.db, id);
  if (!approval || !permitsApproval(principal, permission, approval.metadata))
    throw new SignoffError('not_found', `No approval ${id}.`);
  return approval;
}

/**
 * Waits (at most MAX_WAIT_MS) until an approval the principal may read is no longer pending,
 * or one of its notifications is given up on: the waiting side must hear that too.
 */
export async function waitAs(
  services: Services,
  principal: Principal,
  id: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Approval> {
  await loadPermitted(services, principal, 'approvals:read', id);
  const failureCount = async () => (await loadNotificationFailures(services.db, [id])).get(id)?.length ?? 0;
  const failuresBefore = await failureCount();
  const failureAdded = async () => (await failureCount()) > failuresBefore;
  return waitForDecision(services, id, Math.min(timeoutMs, MAX_WAIT_MS), signal, failureAdded);
}

/** Calls an approval off: only whoever created it (the same credential or scope), or an admin. */
export async function cancelAs(
  services: Services,
  principal: Principal,
  id: string,
  reason: string | undefined,
): Promise<Approval> {
  const approval = await loadPermitted(services, principal, 'approvals:create', id);
  const owner = hasUnrestrictedPermission(principal, 'admin')
    ? undefined
    : sha256Hex(ownerScope(principal, approval.metadata));
  return cancelApproval(services, id, principal.actor ?? principal.credentialId, reason, { owner });
}

export interface MineQuery {
  readonly tab: 'waiting' | 'requested';
  readonly status?: ApprovalStatus | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/**
 * The principal's own lists (the web inbox's): what waits for them, or what they asked for.
 * A restricted credential sees only the approvals its grants reach.
 */
export async function listMine(
  services: Services,
  principal: Principal,
  query: MineQuery,
): Promise<{ items: Approval[]; nextCursor: string | null }> {
  const person = actorOf(principal);
  if (!person)
    throw new SignoffError('invalid_input', 'This credential names nobody, so nothing waits for it.');
  return readableBy(principal, await queryInbox(services.db, person, query));
}

/** A page keeping only what the principal may read (a restricted credential sees its own scope). */
function readableBy(
  principal: Principal,
  page: { items: Approval[]; nextCursor: string | null },
): { items: Approval[]; nextCursor: string | null } {
  return {
    items: page.items.filter((a) => permitsApproval(principal, 'approvals:read', a.metadata)),
    nextCursor: page.nextCursor,
  };
}

/** Which page of a list: a status, where the last page ended, how many. */
interface ListPage {
  readonly status?: ApprovalStatus | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/** A page of `limit` approvals from one read of `limit + 1`, with the cursor of the next page. */
async function pageOf(
  read: (limit: number) => Promise<Approval[]>,
  limit: number,
): Promise<{ items: Approval[]; nextCursor: string | null }> {
  const rows = await read(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** What this principal's credential (or restriction scope) asked for, newest first. */
export async function listOwn(
  services: Services,
  principal: Principal,
  query: ListPage,
): Promise<{ items: Approval[]; nextCursor: string | null }> {
  // A restricted credential owns what it created under each restriction it holds.
  const scopes = hasUnrestrictedPermission(principal, 'approvals:create')
    ? [ownerScope(principal, {})]
    : principal.grants
        .filter((g) => g.metadata && (g.permissions.has('approvals:create') || g.permissions.has('admin')))
        .map((g) => ownerScope(principal, g.metadata ?? {}));
  if (scopes.length === 0) return { items: [], nextCursor: null };
  const page = await pageOf(
    (limit) =>
      listApprovals(services.db, {
        owners: scopes.map(sha256Hex),
        status: query.status,
        before: query.cursor,
        limit,
      }),
    query.limit,
  );
  return readableBy(principal, page);
}

/** Every approval, newest first, a page at a time: only for a credential that may read them all. */
export async function listAllAs(
  services: Services,
  principal: Principal,
  query: ListPage,
): Promise<{ items: Approval[]; nextCursor: string | null }> {
  if (!hasUnrestrictedPermission(principal, 'approvals:read'))
    throw new SignoffError(
      'forbidden',
      'This credential may read only some approvals, so it cannot list them.',
    );
  return pageOf(
    (limit) => listApprovals(services.db, { status: query.status, before: query.cursor, limit }),
    query.limit,
  );
}

/** The audit trail of an approval this principal may read, oldest first, with its chain. */
export async function auditTrailAs(
  services: Services,
  principal: Principal,
  id: string,
): Promise<StoredAuditEvent[]> {
  await loadPermitted(services, principal, 'approvals:read', id);
  return listAudit(services.db, id);
}

import { generateSecret, sha256Hex } from '../auth/secrets.js';
import { type DecisionInput, linkExpiry } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import type { Approval } from '../core/model.js';
import { currentStage } from '../core/stages.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import type { Db } from '../store/database.js';
import { findLinkByHash, insertLink, markLink, spendLink } from '../store/links.js';
import type { LinkRow } from '../store/schema.js';
import { audit } from '../unit-of-work/audit.js';
import { runUnitOfWork, type UnitOfWork } from '../unit-of-work/context.js';
import { decideApproval } from './decide.js';
import { queueEmail } from './messages.js';
import { withApproval } from './transaction.js';

/** Whether a link can still decide, and if not, why. */
export type LinkState = 'usable' | 'used' | 'expired';

export interface OpenedLink {
  readonly link: LinkRow;
  readonly approval: Approval;
  readonly state: LinkState;
  /** A fresh link can be mailed: the link is spent, the approval still waits on this approver. */
  readonly renewable: boolean;
}

/** Creates a one-time link for one approver of one stage; returns the token once. */
export async function issueLink(
  unit: UnitOfWork,
  approval: Approval,
  stage: string,
  approver: string,
): Promise<{ url: string; expiresAt: Date }> {
  const token = generateSecret();
  const expiresAt = linkExpiry(approval, unit.now, unit.config.linkTtlMs);
  await insertLink(unit.db, {
    tokenHash: sha256Hex(token),
    approvalId: approval.id,
    stage,
    approver,
    createdAt: unit.now,
    expiresAt,
  });
  return { url: `${unit.config.publicUrl}/d/${token}`, expiresAt };
}

function linkState(link: LinkRow, now: Date): LinkState {
  if (link.used_at !== null) return 'used';
  return now.getTime() >= Number(link.expires_at) ? 'expired' : 'usable';
}

/** The error a spent link answers with. */
export function spentLinkError(state: Exclude<LinkState, 'usable'>): SignoffError {
  return state === 'used'
    ? new SignoffError('link_used', 'This link has already been used. Each link works only once.')
    : new SignoffError(
        'link_expired',
        'This link has expired. Nothing was decided: an expired link never rejects.',
      );
}

function isRenewable(link: LinkRow, approval: Approval, state: LinkState, now: Date): boolean {
  if (state === 'usable' || link.renewed_at !== null || approval.status !== 'pending') return false;
  if (now >= approval.expiresAt || currentStage(approval)?.name !== link.stage) return false;
  return !approval.decisions.some((d) => d.stage === link.stage && d.actor === link.approver);
}

/** A well-formed token is 43 base64url characters; anything else is not looked up. */
function hashOfToken(token: string): string {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new SignoffError('link_not_found', 'This link is not valid.');
  return sha256Hex(token);
}

async function findLink(db: Db, tokenHash: string): Promise<LinkRow> {
  const link = await findLinkByHash(db, tokenHash);
  if (!link) throw new SignoffError('link_not_found', 'This link is not valid.');
  return link;
}

/** Looks a link up by the hash of its token (one indexed read) without changing anything. */
export async function openLink(services: Services, token: string): Promise<OpenedLink> {
  const link = await findLink(services.db, hashOfToken(token));
  const approval = await findApproval(services.db, link.approval_id);
  if (!approval) throw new Error(`Link points at missing approval ${link.approval_id}`);
  const now = services.now();
  const state = linkState(link, now);
  return { link, approval, state, renewable: isRenewable(link, approval, state, now) };
}

/**
 * Records the first time a person viewed the decision page. Only the audit trail and the
 * link's `opened_at` are written; the approval is untouched, and refetches add nothing.
 */
export async function recordLinkOpened(
  services: Services,
  opened: OpenedLink,
  userAgent: string | undefined,
) {
  if (opened.link.opened_at !== null) return;
  await runUnitOfWork(services, async (unit) => {
    if (!(await markLink(unit.db, opened.link.token_hash, 'opened', unit.now))) return;
    await audit(unit, opened.approval.id, {
      type: 'link.opened',
      actor: opened.link.approver,
      data: { stage: opened.link.stage, userAgent: userAgent?.slice(0, 200) ?? null },
    });
  });
}

/** Decides through a link: the link is spent in the same transaction as the decision. */
export async function decideByLink(
  services: Services,
  token: string,
  decision: Pick<DecisionInput, 'verdict' | 'comment' | 'inputs' | 'formInputs' | 'ip'>,
): Promise<Approval> {
  const tokenHash = hashOfToken(token);
  const link = await findLink(services.db, tokenHash);
  const input = {
    actor: { id: link.approver, groups: [] },
    ...decision,
    via: 'link' as const,
    stage: link.stage,
  };
  return decideApproval(services, link.approval_id, input, {
    beforeDecide: async (unit) => {
      // Spent inside the transaction, only if still unused and unexpired: a racing request may
      // have spent it meanwhile. Only a link that could not be spent is read again, to say why.
      if (await spendLink(unit.db, tokenHash, unit.now)) return;
      const state = linkState(await findLink(unit.db, tokenHash), unit.now);
      throw spentLinkError(state === 'usable' ? 'used' : state);
    },
  });
}

/** Mails the same approver a fresh link in place of a spent one (once per link). */
export async function renewLink(services: Services, token: string): Promise<{ approver: string }> {
  const tokenHash = hashOfToken(token);
  const { approval_id } = await findLink(services.db, tokenHash);
  return withApproval(services, approval_id, async (unit, approval) => {
    const { now } = unit;
    const link = await findLink(unit.db, tokenHash);
    const state = linkState(link, now);
    if (state === 'usable')
      throw new SignoffError('invalid_input', 'This link still works; use it to decide.');
    if (approval.status !== 'pending' || now >= approval.expiresAt)
      throw new SignoffError('already_decided', 'This approval is no longer waiting for decisions.');
    if (!isRenewable(link, approval, state, now) || !(await markLink(unit.db, tokenHash, 'renewed', now)))
      throw spentLinkError(state);
    await queueEmail(unit, {
      approvalId: approval.id,
      stage: link.stage,
      approver: link.approver,
      renewed: true,
    });
    await audit(unit, approval.id, {
      type: 'link.renewed',
      actor: link.approver,
      data: { stage: link.stage },
    });
    return { approver: link.approver };
  });
}

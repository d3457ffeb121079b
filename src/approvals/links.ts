import { generateSecret, sha256Hex } from '../auth/secrets.js';
import { currentStage, linkExpiry } from '../core/approval.js';
import { SignoffError } from '../core/errors.js';
import type { Approval, Verdict } from '../core/model.js';
import type { Services } from '../services.js';
import { findApproval } from '../store/approvals.js';
import type { Db } from '../store/database.js';
import { findLinkByHash, insertLink, markLinkRenewed, markLinkUsed } from '../store/links.js';
import type { LinkRow } from '../store/schema.js';
import { audit } from './audit.js';
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
  db: Db,
  services: Services,
  approval: Approval,
  stage: string,
  approver: string,
  now: Date,
): Promise<{ url: string; expiresAt: Date }> {
  const token = generateSecret();
  const expiresAt = linkExpiry(approval, now, services.config.linkTtlMs);
  await insertLink(db, {
    tokenHash: sha256Hex(token),
    approvalId: approval.id,
    stage,
    approver,
    createdAt: now,
    expiresAt,
  });
  return { url: `${services.config.publicUrl}/d/${token}`, expiresAt };
}

function linkState(link: LinkRow, now: Date): LinkState {
  if (link.used_at !== null) return 'used';
  return now.getTime() >= Number(link.expires_at) ? 'expired' : 'usable';
}

function isRenewable(link: LinkRow, approval: Approval, state: LinkState): boolean {
  if (state === 'usable' || link.renewed_at !== null || approval.status !== 'pending') return false;
  if (currentStage(approval)?.name !== link.stage) return false;
  return !approval.decisions.some((d) => d.stage === link.stage && d.actor === link.approver);
}

/** A well-formed token is 43 base64url characters; anything else is not looked up. */
function hashOfToken(token: string): string {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw new SignoffError('link_not_found', 'This link is not valid.');
  return sha256Hex(token);
}

/** Looks a link up by the hash of its token (one indexed read) without changing anything. */
export async function openLink(services: Services, token: string): Promise<OpenedLink> {
  const link = await findLinkByHash(services.db, hashOfToken(token));
  if (!link) throw new SignoffError('link_not_found', 'This link is not valid.');
  const approval = await findApproval(services.db, link.approval_id);
  if (!approval) throw new Error(`Link points at missing approval ${link.approval_id}`);
  const state = linkState(link, services.now());
  return { link, approval, state, renewable: isRenewable(link, approval, state) };
}

/** Records that a person viewed the decision page (audit only; the approval is untouched). */
export async function recordLinkOpened(
  services: Services,
  opened: OpenedLink,
  userAgent: string | undefined,
) {
  await audit(
    services.db,
    services,
    opened.approval.id,
    'link.opened',
    opened.link.approver,
    { stage: opened.link.stage, state: opened.state, userAgent: userAgent?.slice(0, 200) ?? null },
    services.now(),
  );
}

function refuseSpentLink(state: LinkState): void {
  if (state === 'used') throw new SignoffError('link_used', 'This link has already been used.');
  if (state === 'expired') throw new SignoffError('link_expired', 'This link has expired.');
}

/** Decides through a link: the link is spent in the same transaction as the decision. */
export async function decideByLink(
  services: Services,
  token: string,
  decision: { verdict: Verdict; comment?: string | undefined; ip?: string | undefined },
): Promise<Approval> {
  const tokenHash = hashOfToken(token);
  const link = await findLinkByHash(services.db, tokenHash);
  if (!link) throw new SignoffError('link_not_found', 'This link is not valid.');
  return decideApproval(
    services,
    link.approval_id,
    {
      actor: { id: link.approver, groups: [] },
      verdict: decision.verdict,
      comment: decision.comment,
      via: 'link',
      ip: decision.ip,
      stage: link.stage,
    },
    async (tx) => {
      const fresh = await findLinkByHash(tx, tokenHash);
      if (!fresh) throw new SignoffError('link_not_found', 'This link is not valid.');
      refuseSpentLink(linkState(fresh, services.now()));
      if (!(await markLinkUsed(tx, tokenHash, services.now())))
        throw new SignoffError('link_used', 'This link has already been used.');
    },
  );
}

/** Mails the same approver a fresh link in place of a spent one (once per link). */
export async function renewLink(services: Services, token: string): Promise<{ approver: string }> {
  const tokenHash = hashOfToken(token);
  const link = await findLinkByHash(services.db, tokenHash);
  if (!link) throw new SignoffError('link_not_found', 'This link is not valid.');
  return withApproval(services, link.approval_id, async (tx, approval) => {
    const now = services.now();
    const fresh = await findLinkByHash(tx, tokenHash);
    if (!fresh) throw new SignoffError('link_not_found', 'This link is not valid.');
    const state = linkState(fresh, now);
    if (state === 'usable')
      throw new SignoffError('invalid_input', 'This link still works; use it to decide.');
    if (approval.status !== 'pending')
      throw new SignoffError('already_decided', `This approval is already ${approval.status}.`);
    if (!isRenewable(fresh, approval, state) || !(await markLinkRenewed(tx, tokenHash, now)))
      throw new SignoffError(
        state === 'used' ? 'link_used' : 'link_expired',
        'A new link cannot be sent for this one.',
      );
    await queueEmail(
      tx,
      services,
      { approvalId: approval.id, stage: fresh.stage, approver: fresh.approver, renewed: true },
      now,
    );
    await audit(tx, services, approval.id, 'link.renewed', fresh.approver, { stage: fresh.stage }, now);
    return { approver: fresh.approver };
  });
}

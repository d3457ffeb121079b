import type { Grant, Permission, Principal } from '../auth/principal.js';
import { generateSecret, sha256Hex } from '../auth/secrets.js';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import { enqueue } from '../outbox/enqueue.js';
import type { Services } from '../services.js';
import {
  deleteWebSession,
  findSignInLink,
  findWebSession,
  insertSignInLink,
  insertWebSession,
  markSignInLinkUsed,
  touchWebSession,
} from '../store/web.js';
import { runUnitOfWork } from '../unit-of-work/context.js';

/** Who a browser is signed in as: the same shape of person as an API token names. */
export interface WebPerson {
  readonly actor: string;
  readonly groups: readonly string[];
  readonly grants: readonly Grant[];
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
}

/** A sign-in link's token is 43 base64url characters; anything else is not looked up. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
// Writing last_seen on every request would make each page view a write; a minute is precise enough.
const TOUCH_EVERY_MS = 60_000;

/** The principal a session acts as, for the same checks a token goes through. */
export function principalOfPerson(person: WebPerson, sessionHash: string): Principal {
  return {
    kind: person.issuer ? 'jwt' : 'api_key',
    credentialId: `web ${sessionHash.slice(0, 16)}`,
    actor: person.actor,
    groups: person.groups,
    grants: person.grants,
    issuer: person.issuer,
    subject: person.subject,
  };
}

function grantsToJson(grants: readonly Grant[]): string {
  return JSON.stringify(grants.map((g) => ({ ...g, permissions: [...g.permissions] })));
}

function grantsFromJson(text: string): Grant[] {
  return (JSON.parse(text) as (Omit<Grant, 'permissions'> & { permissions: Permission[] })[]).map((g) => ({
    ...g,
    permissions: new Set(g.permissions),
  }));
}

/**
 * Queues the mail of a one-time sign-in link to `email`: it goes through the outbox like every
 * other mail, so a mail server that is down delays it instead of failing the request.
 */
export async function askForSignInLink(services: Services, email: string): Promise<void> {
  const address = normalizeIdentity(email, services.config.identity);
  await runUnitOfWork(services, (unit) =>
    enqueue(unit, 'sign-in-mail', { approvalId: null, email: address }),
  );
}

/**
 * Makes a one-time sign-in link for `email` when its mail is sent; returns the token's URL
 * once. Only the hash of its token is stored; it works once, for SIGNOFF_WEB_SIGN_IN_TTL, and
 * opening it signs nobody in.
 */
export async function issueSignInLink(
  services: Services,
  email: string,
): Promise<{ url: string; expiresAt: Date }> {
  const token = generateSecret();
  const now = services.now();
  const expiresAt = new Date(now.getTime() + services.config.signInLinkTtlMs);
  await insertSignInLink(services.db, { tokenHash: sha256Hex(token), email, createdAt: now, expiresAt });
  return { url: `${services.config.publicUrl}/sign-in/${token}`, expiresAt };
}

export type SignInLinkState = 'usable' | 'used' | 'expired';

/** Looks a sign-in link up without spending it: who it signs in, and whether it still can. */
export async function openSignInLink(
  services: Services,
  token: string,
): Promise<{ email: string; state: SignInLinkState }> {
  const link = TOKEN.test(token) ? await findSignInLink(services.db, sha256Hex(token)) : undefined;
  if (!link) throw new SignoffError('link_not_found', 'This sign-in link is not valid.');
  const state =
    link.used_at !== null
      ? 'used'
      : services.now().getTime() >= Number(link.expires_at)
        ? 'expired'
        : 'usable';
  return { email: link.email, state };
}

/** Starts a session for a person; returns the cookie value (only its hash is stored). */
export async function startWebSession(services: Services, person: WebPerson): Promise<string> {
  const secret = generateSecret();
  const now = services.now();
  await insertWebSession(services.db, {
    idHash: sha256Hex(secret),
    actor: person.actor,
    groups: person.groups,
    grants: grantsToJson(person.grants),
    issuer: person.issuer ?? null,
    subject: person.subject ?? null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + services.config.webSessionMaxMs),
  });
  return secret;
}

/**
 * Spends a sign-in link and starts a session for its address in one transaction: a link
 * signs in once, however many requests race. The person has no groups and no grants: a
 * mailbox proves an address, nothing more.
 */
export async function signInWithLink(services: Services, token: string): Promise<string> {
  const { email, state } = await openSignInLink(services, token);
  if (state === 'used')
    throw new SignoffError(
      'link_used',
      'This sign-in link has already been used. Each link works only once.',
    );
  if (state === 'expired')
    throw new SignoffError('link_expired', 'This sign-in link has expired. Ask for a new one.');
  const secret = generateSecret();
  await runUnitOfWork(services, async (unit) => {
    if (!(await markSignInLinkUsed(unit.db, sha256Hex(token), unit.now)))
      throw new SignoffError(
        'link_used',
        'This sign-in link has already been used. Each link works only once.',
      );
    await insertWebSession(unit.db, {
      idHash: sha256Hex(secret),
      actor: email,
      groups: [],
      grants: '[]',
      issuer: null,
      subject: null,
      createdAt: unit.now,
      expiresAt: new Date(unit.now.getTime() + services.config.webSessionMaxMs),
    });
  });
  return secret;
}

/** The person a session cookie stands for, or undefined when it is unknown or expired. */
export async function loadWebSession(
  services: Services,
  secret: string | undefined,
): Promise<{ person: WebPerson; hash: string } | undefined> {
  if (!secret || !TOKEN.test(secret)) return undefined;
  const hash = sha256Hex(secret);
  const row = await findWebSession(services.db, hash);
  if (!row) return undefined;
  const now = services.now().getTime();
  const lastSeen = Number(row.last_seen_at);
  if (now >= Number(row.expires_at) || now >= lastSeen + services.config.webSessionIdleMs) {
    await deleteWebSession(services.db, hash);
    return undefined;
  }
  if (now - lastSeen >= TOUCH_EVERY_MS) await touchWebSession(services.db, hash, services.now());
  return {
    hash,
    person: {
      actor: row.actor,
      groups: JSON.parse(row.groups) as string[],
      grants: grantsFromJson(row.grants),
      issuer: row.issuer ?? undefined,
      subject: row.subject ?? undefined,
    },
  };
}

/** Ends a session. */
export async function endWebSession(services: Services, hash: string): Promise<void> {
  await deleteWebSession(services.db, hash);
}

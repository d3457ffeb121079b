import { LRUCache } from 'lru-cache';
import { SignoffError } from '../core/errors.js';
import { normalizeIdentity } from '../core/identity.js';
import type { NewId } from '../ids.js';
import {
  activateApiKeyByHash,
  findApiKeyByHash,
  hasApiKeyNamed,
  insertApiKey,
  revokeOtherApiKeysNamed,
} from '../store/api-keys.js';
import type { Db } from '../store/database.js';
import { type Authenticator, PERMISSIONS, type Permission, type Principal } from './principal.js';
import { API_KEY_PATTERN, generateSecret, sha256Hex } from './secrets.js';

export const API_KEY_PREFIX = 'sk_';
export const ADMIN_KEY_NAME = 'admin';
const CONFIGURED_ADMIN_KEY_NAME = 'admin (SIGNOFF_ADMIN_KEY)';

/** Whether a bearer value has the shape of a signoff API key (checked before any lookup). */
export function looksLikeApiKey(value: string): boolean {
  return API_KEY_PATTERN.test(value);
}

export function parsePermissions(values: readonly string[]): Permission[] {
  for (const value of values) {
    if (!(PERMISSIONS as readonly string[]).includes(value))
      throw new SignoffError(
        'invalid_input',
        `Unknown permission "${value}": use ${PERMISSIONS.join(', ')}.`,
      );
  }
  return [...new Set(values as Permission[])];
}

/** Creates an API key; the secret is returned once and only its hash is stored. */
export async function createApiKey(
  db: Db,
  ids: NewId,
  now: Date,
  options: { name: string; actor?: string | null; permissions: readonly Permission[]; secret?: string },
): Promise<{ id: string; secret: string }> {
  const secret = options.secret ?? `${API_KEY_PREFIX}${generateSecret()}`;
  const id = ids('key');
  await insertApiKey(db, {
    id,
    keyHash: sha256Hex(secret),
    name: options.name,
    actor: options.actor?.trim() ? normalizeIdentity(options.actor) : null,
    permissions: options.permissions,
    createdAt: now,
  });
  return { id, secret };
}

/** A generated admin key that is not stored yet: hand the secret out first, then store it. */
export interface UnissuedAdminKey {
  readonly secret: string;
  /** Stores the key (hashed); call it only once the secret has been printed or written. */
  store(): Promise<void>;
}

/**
 * Makes sure an admin key exists: the configured one (stored hashed), or, when there is none
 * at all, a generated one returned unstored, so that a start that fails before printing it
 * leaves no key nobody has.
 */
export async function ensureAdminKey(
  db: Db,
  ids: NewId,
  now: Date,
  configured: string | undefined,
): Promise<UnissuedAdminKey | undefined> {
  if (configured) {
    const keyHash = sha256Hex(configured);
    // A changed SIGNOFF_ADMIN_KEY retires the previous one, and a configured one retires the
    // key generated before anyone configured one.
    await revokeOtherApiKeysNamed(db, CONFIGURED_ADMIN_KEY_NAME, keyHash, now);
    await revokeOtherApiKeysNamed(db, ADMIN_KEY_NAME, keyHash, now);
    if (!(await activateApiKeyByHash(db, keyHash)))
      await createApiKey(db, ids, now, {
        name: CONFIGURED_ADMIN_KEY_NAME,
        actor: 'admin',
        permissions: ['admin'],
        secret: configured,
      });
    return undefined;
  }
  if (await hasApiKeyNamed(db, ADMIN_KEY_NAME)) return undefined;
  const secret = `${API_KEY_PREFIX}${generateSecret()}`;
  return {
    secret,
    async store() {
      await createApiKey(db, ids, now, {
        name: ADMIN_KEY_NAME,
        actor: 'admin',
        permissions: ['admin'],
        secret,
      });
    },
  };
}

export interface ApiKeyCacheOptions {
  readonly size: number;
  /** How long a verified key is believed without asking the database; 0 asks every time. */
  readonly ttlMs: number;
}

/** An authenticator of API keys that can be told at once that a key was revoked. */
export interface ApiKeyAuthenticator extends Authenticator {
  /** Drops a key from the cache of verified keys, by the SHA-256 of its secret. */
  forget(keyHash: string): void;
}

/**
 * Authenticates API keys by one indexed lookup of their hash. A verified key is remembered
 * (by its hash, never the secret) for `ttlMs`, as verified tokens are: a key revoked by
 * another process (`signoff keys revoke`, another instance) stops working within that time;
 * unknown keys are never remembered, so a new key works at once.
 */
export function createApiKeyAuthenticator(
  db: Db,
  cache: ApiKeyCacheOptions = { size: 1, ttlMs: 0 },
): ApiKeyAuthenticator {
  const verified =
    cache.ttlMs > 0 ? new LRUCache<string, Principal>({ max: cache.size, ttl: cache.ttlMs }) : undefined;
  return {
    async authenticate(bearer) {
      if (!looksLikeApiKey(bearer)) return undefined;
      const keyHash = sha256Hex(bearer);
      const known = verified?.get(keyHash);
      if (known) return known;
      const row = await findApiKeyByHash(db, keyHash);
      if (!row) throw new SignoffError('invalid_token', 'The API key is not valid.');
      const principal: Principal = {
        kind: 'api_key',
        credentialId: row.id,
        actor: row.actor,
        groups: [],
        grants: [{ permissions: new Set(JSON.parse(row.permissions) as Permission[]) }],
      };
      verified?.set(keyHash, principal);
      return principal;
    },
    forget(keyHash) {
      verified?.delete(keyHash);
    },
  };
}

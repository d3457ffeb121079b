import type { Db } from './database.js';
import type { ApiKeyRow } from './schema.js';

export interface NewApiKey {
  readonly id: string;
  readonly keyHash: string;
  readonly name: string;
  readonly actor: string | null;
  readonly permissions: readonly string[];
  readonly createdAt: Date;
}

/** Stores an API key by the SHA-256 of its secret. */
export async function insertApiKey(db: Db, key: NewApiKey): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      key_hash: key.keyHash,
      name: key.name,
      actor: key.actor,
      permissions: JSON.stringify(key.permissions),
      created_at: key.createdAt.getTime(),
      revoked_at: null,
    })
    .execute();
}

/** One indexed read by the key's hash; revoked keys are not found. */
export async function findApiKeyByHash(db: Db, keyHash: string): Promise<ApiKeyRow | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Whether any key with this name exists (used to generate the admin key only once). */
export async function hasApiKeyNamed(db: Db, name: string): Promise<boolean> {
  const row = await db.selectFrom('api_keys').select('id').where('name', '=', name).executeTakeFirst();
  return row !== undefined;
}

/** Revokes every key with this name except the one with `keepHash` (an admin key that was rotated). */
export async function revokeOtherApiKeysNamed(
  db: Db,
  name: string,
  keepHash: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ revoked_at: now.getTime() })
    .where('name', '=', name)
    .where('key_hash', '!=', keepHash)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Makes the key with this hash usable again if it exists; false when there is no such key. */
export async function activateApiKeyByHash(db: Db, keyHash: string): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: null })
    .where('key_hash', '=', keyHash)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Every key, oldest first, revoked ones included (for operators; hashes stay inside). */
export async function listApiKeys(db: Db): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Revokes one key by id; false when there is no such key or it was already revoked. */
export async function revokeApiKey(db: Db, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now.getTime() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

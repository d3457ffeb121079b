import { createApiKey, parsePermissions } from '../auth/api-keys.js';
import { databaseOptions, loadConfig } from '../config.js';
import { SignoffError } from '../core/errors.js';
import { newId } from '../ids.js';
import { listApiKeys, revokeApiKey } from '../store/api-keys.js';
import { type Db, openDatabase } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { formatTable, type Output } from './output.js';

/** Opens (and migrates) the database named by the environment for one command. */
export async function withDatabase(
  out: Output,
  work: (db: Db, applied: string[]) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const db = openDatabase(databaseOptions(config));
  try {
    await work(
      db,
      await migrate(db, config.databaseSchema, { warn: (_details, message) => out.log(message) }),
    );
  } finally {
    await db.destroy();
  }
}

function isoTime(epochMs: number): string {
  return new Date(Number(epochMs)).toISOString();
}

/** `signoff migrate`. */
export async function migrateCommand(out: Output): Promise<void> {
  await withDatabase(out, async (_db, applied) => {
    out.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  });
}

/** `signoff keys create`: the secret goes to stdout, once. */
export async function createKeyCommand(
  out: Output,
  options: { permission: string[]; name: string; actor?: string },
): Promise<void> {
  await withDatabase(out, async (db) => {
    const key = await createApiKey(db, newId, new Date(), {
      name: options.name,
      actor: options.actor ?? null,
      permissions: parsePermissions(options.permission),
    });
    out.log(`created ${key.id} (${options.permission.join(', ')}); the secret is shown only now:`);
    out.print(key.secret);
  });
}

/** `signoff keys list`: a table with a header, or with `json` the keys as JSON (never a secret). */
export async function listKeysCommand(
  out: Output,
  options: { json?: boolean | undefined } = {},
): Promise<void> {
  await withDatabase(out, async (db) => {
    const keys = (await listApiKeys(db)).map((key) => ({
      id: key.id,
      name: key.name,
      actor: key.actor,
      permissions: JSON.parse(key.permissions) as string[],
      createdAt: isoTime(key.created_at),
      revokedAt: key.revoked_at === null ? null : isoTime(key.revoked_at),
    }));
    if (options.json) return out.print(keys);
    if (keys.length === 0) return out.print('(none)');
    out.print(
      formatTable([
        ['ID', 'NAME', 'ACTOR', 'PERMISSIONS', 'CREATED', 'REVOKED'],
        ...keys.map((key) => [
          key.id,
          key.name,
          key.actor ?? '-',
          key.permissions.join(','),
          key.createdAt,
          key.revokedAt ?? '-',
        ]),
      ]),
    );
  });
}

/** `signoff keys revoke`. */
export async function revokeKeyCommand(out: Output, id: string): Promise<void> {
  await withDatabase(out, async (db) => {
    if (!(await revokeApiKey(db, id, new Date())))
      throw new SignoffError('not_found', `No active API key ${id}; see signoff keys list.`);
    out.log(`revoked ${id}`);
  });
}

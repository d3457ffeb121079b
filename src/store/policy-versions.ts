import { sql } from 'kysely';
import { canonicalJson } from '../core/canonical-json.js';
import type { PolicySource, PolicyVersionEntry } from '../core/policy-version.js';
import { type Db, isPostgres } from './database.js';
import type { PolicyVersionsTable } from './schema.js';

function toEntry(row: PolicyVersionsTable): PolicyVersionEntry {
  return {
    source: row.source as PolicySource,
    name: row.name,
    seq: Number(row.seq),
    version: row.version,
    content: row.content === null ? null : (JSON.parse(row.content) as unknown),
    firstSeenAt: Number(row.first_seen_at),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Holds the right to append to the policy change log until the transaction ends, so instances
 * starting together take turns: an advisory lock on PostgreSQL; on SQLite a write that changes
 * nothing, which takes the database's one write lock before the log is read (waiting for it
 * as any write does) instead of failing when a read turns into a write.
 */
export async function lockPolicyLog(db: Db): Promise<void> {
  if (isPostgres(db))
    await sql`select pg_advisory_xact_lock(hashtextextended('signoff policy_versions', 0))`.execute(db);
  else await sql`update policy_versions set seq = seq where 1 = 0`.execute(db);
}

/** The whole change log, each policy's entries in order. It holds one row per change of a file. */
export async function listPolicyLog(db: Db): Promise<PolicyVersionEntry[]> {
  const rows = await db
    .selectFrom('policy_versions')
    .selectAll()
    .orderBy('source')
    .orderBy('name')
    .orderBy('seq')
    .execute();
  return rows.map(toEntry);
}

/** One policy's entries, oldest first. */
export async function listPolicyVersions(
  db: Db,
  source: PolicySource,
  name: string,
): Promise<PolicyVersionEntry[]> {
  const rows = await db
    .selectFrom('policy_versions')
    .selectAll()
    .where('source', '=', source)
    .where('name', '=', name)
    .orderBy('seq')
    .execute();
  return rows.map(toEntry);
}

/** Appends one entry; the primary key refuses a second entry on the same place. */
export async function insertPolicyVersion(
  db: Db,
  entry: PolicyVersionEntry & { hash: string },
): Promise<void> {
  await db
    .insertInto('policy_versions')
    .values({
      source: entry.source,
      name: entry.name,
      seq: entry.seq,
      version: entry.version,
      content: entry.content === null ? null : canonicalJson(entry.content),
      first_seen_at: entry.firstSeenAt,
      prev_hash: entry.prevHash,
      hash: entry.hash,
    })
    .execute();
}

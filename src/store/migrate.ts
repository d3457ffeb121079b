import { type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { SignoffError } from '../core/errors.js';
import { type Db, describeError, isPostgres, isUniqueViolation } from './database.js';
import { FIRST_FLAGGED_MIGRATION, KNOWN_MIGRATIONS, MIGRATIONS } from './migrations/index.js';

/** Where `migrate` says that it runs beside migrations of a newer signoff. */
export interface MigrationLog {
  warn(details: { migrations: readonly string[] }, message: string): void;
}

/**
 * Applies every migration not yet applied. On a database that a newer signoff migrated it
 * applies nothing: it runs on (telling `log`) when every migration it does not know is
 * recorded as additive, and refuses with `schema_too_new` when any is breaking or unrecorded,
 * since old code on a broken schema could corrupt it.
 */
export async function migrate(db: Db, schema?: string, log?: MigrationLog): Promise<string[]> {
  try {
    await createSchema(db, schema);
    if (await runsBesideNewerSchema(db, await listAppliedMigrations(db), log)) return [];
  } catch (error) {
    if (error instanceof SignoffError) throw error;
    throw new SignoffError('database_unavailable', `Cannot reach the database: ${describeError(error)}`, {
      cause: error,
    });
  }
  // Name the schema: otherwise Kysely finds another schema's migration table and skips creating its own.
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    ...(isPostgres(db) && schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // A newer signoff may have migrated past this one while it waited for the migration lock;
    // Kysely then finds an applied migration it was not given.
    const besideNewer = await listAppliedMigrations(db).then(
      (applied) => runsBesideNewerSchema(db, applied, log),
      () => false,
    );
    if (besideNewer) return [];
    throw new SignoffError('internal', `Database migration failed: ${describeError(error)}`, {
      cause: error,
    });
  }
  try {
    // Flags of the migrations that ran before the flags table existed.
    await recordMigrationFlags(db, KNOWN_MIGRATIONS);
  } catch (recordError) {
    throw new SignoffError('internal', `Recording migration flags failed: ${describeError(recordError)}`, {
      cause: recordError,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function createSchema(db: Db, schema: string | undefined): Promise<void> {
  if (!isPostgres(db) || !schema || schema === 'public') return;
  // Instances starting together race here; the loser's "already exists" is fine.
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db).catch((error: unknown) => {
    if (!isUniqueViolation(error) && (error as { code?: string }).code !== '42P06') throw error;
  });
}

/**
 * The migrations as Kysely runs them. From the flags table on, each records its flag in the
 * same transaction (on PostgreSQL), so no signoff ever sees it applied but unflagged.
 */
const migrationProvider: MigrationProvider = {
  getMigrations: async () =>
    Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, migration]): [string, Migration] => [
        name,
        {
          up: async (db: Db) => {
            await migration.up(db);
            if (name >= FIRST_FLAGGED_MIGRATION) await recordMigrationFlags(db, [name]);
          },
          down: migration.down,
        },
      ]),
    ),
};

/**
 * Whether to run beside migrations this signoff does not know, applying nothing: only when
 * each is recorded as additive and every migration it knows is applied. Throws
 * `schema_too_new` when one is breaking or unrecorded; false when there are none.
 */
async function runsBesideNewerSchema(
  db: Db,
  applied: readonly string[],
  log: MigrationLog | undefined,
): Promise<boolean> {
  const unknown = applied.filter((name) => !KNOWN_MIGRATIONS.includes(name));
  if (unknown.length === 0) return false;
  const breaking = await readBreakingFlags(db, unknown);
  const refused = unknown.filter((name) => breaking.get(name) !== false);
  if (refused.length > 0)
    throw new SignoffError(
      'schema_too_new',
      `The database has migrations from a newer signoff that older ones cannot run beside (${refused.join(', ')}: breaking, or not saying). Upgrade signoff.`,
    );
  const missing = KNOWN_MIGRATIONS.filter((name) => !applied.includes(name));
  if (missing.length > 0)
    throw new SignoffError(
      'schema_too_new',
      `The database was migrated by another signoff: it has ${unknown.join(', ')} but not ${missing.join(', ')}.`,
    );
  log?.warn(
    { migrations: unknown },
    `The database has additive migrations from a newer signoff (${unknown.join(', ')}); running beside them. Upgrade this instance.`,
  );
  return true;
}

/** Records whether each named migration breaks older code; a recorded flag never changes. */
async function recordMigrationFlags(db: Db, names: readonly string[]): Promise<void> {
  await db
    .insertInto('migration_flags')
    .values(names.map((name) => ({ name, breaking: MIGRATIONS[name]?.change === 'additive' ? 0 : 1 })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/** Whether each named migration is recorded as breaking; unrecorded ones are absent. */
async function readBreakingFlags(db: Db, names: readonly string[]): Promise<Map<string, boolean>> {
  if (!(await tableExists(db, 'migration_flags'))) return new Map();
  const rows = await db
    .selectFrom('migration_flags')
    .select(['name', 'breaking'])
    .where('name', 'in', names)
    .execute();
  return new Map(rows.map((row) => [row.name, Number(row.breaking) !== 0]));
}

async function listAppliedMigrations(db: Db): Promise<string[]> {
  if (!(await tableExists(db, 'kysely_migration'))) return [];
  const result = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  return result.rows.map((r) => r.name);
}

/** Whether a table exists where signoff's own tables live: the search_path schema, or the SQLite file. */
async function tableExists(db: Db, table: string): Promise<boolean> {
  const found = isPostgres(db)
    ? await sql<{ found: string | null }>`select to_regclass(${table})::text as found`.execute(db)
    : await sql<{
        found: string;
      }>`select name as found from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  return Boolean(found.rows[0]?.found);
}

import { type Kysely, SqliteAdapter, sql } from 'kysely';

/**
 * Fewer B-trees for every create and decision to write. Each index left names the query that
 * needs it; those no query needs go:
 * - `approvals_supersede_key`: superseding reads an owner's pending approvals with one key,
 *   which the partial `approvals_pending_key (owner, supersede_key)` answers. It held the
 *   status, so every decision rewrote it.
 * - `approvals_idempotency` becomes partial: creates without an idempotency key (most) no
 *   longer add a row of nulls to it.
 * - `audit_events_approval (approval_id, id)`: the chain's `(approval_id, seq)` reads an
 *   approval's events in the order they were written.
 * On SQLite, the tables keyed by something else than their rowid are stored in that key
 * instead (`WITHOUT ROWID`), one tree where a rowid table and its key's index were two:
 * - `decisions` by `(approval_id, stage, actor)`, the one-vote-per-person rule it enforced as
 *   an index (by approval: a view's decisions; by actor: `decisions_actor`, the inbox's history);
 * - `audit_events` by `(approval_id, seq)`, the chain (by approval: a trail, its end, the
 *   evidence pack; by id: `audit_events_id`, the export of what was written since a time);
 * - `links` by `token_hash` (by approval: `links_approval`; retention: `links_used`, `links_expires`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
    await leanerIndexes(db);
    await sql`drop index if exists audit_events_approval`.execute(db);
    return;
  }
  // SQLite runs migrations outside a transaction: this one is applied whole or not at all,
  // and one that ran but was not recorded runs again to the same end.
  await db.transaction().execute(async (trx) => {
    await leanerIndexes(trx);
    for (const rebuild of SQLITE_REBUILDS) {
      await sql.raw(rebuild.create).execute(trx);
      await sql
        .raw(
          `insert into ${rebuild.table}_lean (${rebuild.columns}) select ${rebuild.columns} from ${rebuild.table}`,
        )
        .execute(trx);
      await sql.raw(`drop table ${rebuild.table}`).execute(trx);
      await sql.raw(`alter table ${rebuild.table}_lean rename to ${rebuild.table}`).execute(trx);
      for (const index of rebuild.indexes) await sql.raw(index).execute(trx);
    }
  });
}

async function leanerIndexes(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists approvals_supersede_key`.execute(db);
  await sql`drop index if exists approvals_idempotency`.execute(db);
  await sql`create unique index approvals_idempotency on approvals (idempotency_owner, idempotency_key)
    where idempotency_key is not null`.execute(db);
}

/** Each table as 0001–0018 left it, stored in its key; the same columns, types and constraints. */
const SQLITE_REBUILDS = [
  {
    table: 'decisions',
    columns:
      'id, approval_id, stage, actor, groups, verdict, comment, via, ip, at, issuer, subject, inputs, on_behalf_of',
    create: `create table decisions_lean (
      id varchar(40) not null, approval_id varchar(40) not null references approvals (id),
      stage varchar(100) not null, actor text not null, groups text not null,
      verdict varchar(16) not null, comment text, via varchar(16) not null, ip varchar(64),
      at bigint not null, issuer text, subject text, inputs text, on_behalf_of varchar(320),
      primary key (approval_id, stage, actor)) without rowid`,
    indexes: ['create index decisions_actor on decisions (actor, approval_id)'],
  },
  {
    table: 'audit_events',
    columns: 'id, approval_id, type, actor, data, at, seq, prev_hash, hash',
    create: `create table audit_events_lean (
      id varchar(40) not null, approval_id varchar(40) not null, type varchar(64) not null,
      actor text, data text not null, at bigint not null, seq integer not null,
      prev_hash varchar(64), hash varchar(64),
      primary key (approval_id, seq)) without rowid`,
    indexes: ['create unique index audit_events_id on audit_events (id)'],
  },
  {
    table: 'links',
    columns:
      'token_hash, approval_id, stage, approver, created_at, expires_at, used_at, renewed_at, opened_at',
    create: `create table links_lean (
      token_hash varchar(64) not null primary key,
      approval_id varchar(40) not null references approvals (id), stage varchar(100) not null,
      approver text not null, created_at bigint not null, expires_at bigint not null,
      used_at bigint, renewed_at bigint, opened_at bigint) without rowid`,
    indexes: [
      'create index links_approval on links (approval_id)',
      'create index links_used on links (used_at) where used_at is not null',
      'create index links_expires on links (expires_at)',
    ],
  },
] as const;

import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as decisionIssuer from './0002-decision-issuer.js';
import * as supersedeKey from './0003-supersede-key.js';
import * as stageProgress from './0004-stage-progress.js';
import * as migrationFlags from './0005-migration-flags.js';
import * as approvalOwner from './0006-approval-owner.js';
import * as auditChain from './0007-audit-chain.js';
import * as slack from './0008-slack.js';
import * as webSessions from './0010-web-sessions.js';
import * as retention from './0011-retention.js';
import * as approvalAction from './0013-approval-action.js';
import * as standingGrants from './0014-standing-grants.js';
import * as decisionInputs from './0015-decision-inputs.js';
import * as policyVersions from './0016-policy-versions.js';
import * as breakGlass from './0017-break-glass.js';
import * as delegations from './0018-delegations.js';
import * as leanTrees from './0019-lean-trees.js';

/**
 * Whether an older signoff may keep running on a database with this migration applied.
 * `additive`: new tables, new nullable columns, new indexes, and nothing an older signoff
 * reads or writes means something else. `breaking`: older code would fail, or would
 * misread or damage what a newer one writes. When unsure, it is breaking.
 */
export type SchemaChange = 'additive' | 'breaking';

export interface SignoffMigration extends Migration {
  readonly change: SchemaChange;
}

/**
 * Numbered migrations, oldest first, each saying what kind of change it is. A landed
 * migration is never edited; add a new one. 0001–0004 landed before the flags did, so
 * theirs are declared here.
 */
export const MIGRATIONS: Readonly<Record<string, SignoffMigration>> = {
  '0001-initial': { ...initial, change: 'additive' },
  '0002-decision-issuer': { ...decisionIssuer, change: 'additive' },
  '0003-supersede-key': { ...supersedeKey, change: 'additive' },
  // Older code would decide a multi-stage approval as if it had one stage and drop its progress.
  '0004-stage-progress': { ...stageProgress, change: 'breaking' },
  '0005-migration-flags': { ...migrationFlags, change: 'additive' },
  // Nullable columns and an index that ignores rows without an owner: older code runs on.
  '0006-approval-owner': { ...approvalOwner, change: 'additive' },
  // Older code would append audit events without hashes, breaking every chain it touches.
  '0007-audit-chain': { ...auditChain, change: 'breaking' },
  // New tables only: an older signoff never reads them (its approvals just post nothing to Slack).
  '0008-slack': { ...slack, change: 'additive' },
  // New tables and indexes only: older code never reads them.
  '0010-web-sessions': { ...webSessions, change: 'additive' },
  // Indexes only. An older signoff runs on; it just does not prune.
  '0011-retention': { ...retention, change: 'additive' },
  // Nullable columns: an older signoff neither reads nor writes them, and its schema refuses
  // a request that names an action rather than dropping it.
  '0013-approval-action': { ...approvalAction, change: 'additive' },
  // A new table: an older signoff never reads it (its creates simply use no grant).
  '0014-standing-grants': { ...standingGrants, change: 'additive' },
  // A nullable column: an older signoff never names it (its statements list their columns), and
  // a stage with inputs is one it would not know, so it never asks for them.
  '0015-decision-inputs': { ...decisionInputs, change: 'additive' },
  // A nullable column, a new table and an index: an older signoff neither reads nor writes them
  // (its statements list their columns), so its approvals just record no policy version.
  '0016-policy-versions': { ...policyVersions, change: 'additive' },
  // A new table only. An older signoff never reads it, and never breaks the glass.
  '0017-break-glass': { ...breakGlass, change: 'additive' },
  // A new table and a nullable column. An older signoff never delegates; it reads a delegate's
  // decision as the delegate's own, which counts nowhere (they are not named): the seat stays open.
  '0018-delegations': { ...delegations, change: 'additive' },
  // Fewer indexes, and on SQLite three tables rebuilt in their keys with the same columns and
  // constraints. An older signoff's statements name their columns and never a rowid or an
  // index, and it already reads a refused key as a refused unique index: it runs on unchanged.
  '0019-lean-trees': { ...leanTrees, change: 'additive' },
};

/** The migration that creates the flags table: it and every later one record their flag as they run. */
export const FIRST_FLAGGED_MIGRATION = '0005-migration-flags';

/** Names of every migration this version knows, oldest first. */
export const KNOWN_MIGRATIONS = Object.keys(MIGRATIONS);

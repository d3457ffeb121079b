import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as decisionIssuer from './0002-decision-issuer.js';
import * as supersedeKey from './0003-supersede-key.js';
import * as stageProgress from './0004-stage-progress.js';
import * as approvalOwner from './0005-approval-owner.js';

/** Numbered migrations, oldest first. A landed migration is never edited; add a new one. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-decision-issuer': decisionIssuer,
  '0003-supersede-key': supersedeKey,
  '0004-stage-progress': stageProgress,
  '0005-approval-owner': approvalOwner,
};

/** Names of every migration this version knows, to refuse a database migrated by a newer one. */
export const KNOWN_MIGRATIONS = Object.keys(MIGRATIONS);

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

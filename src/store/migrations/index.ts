import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';

/** Numbered migrations, oldest first. A landed migration is never edited; add a new one. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

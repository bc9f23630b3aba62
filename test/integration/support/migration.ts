import fs from 'node:fs';
import { Migrator, type MigrationProvider } from 'kysely';
import { createDb, type Db, type DialectName } from '../../../db';
import { migrations } from '../../../db/migrations';
import { freshDatabase } from './dialects';

/**
 * For the tests of one migration: a new database brought up to the migration before it,
 * filled the old way, then moved up (and down) by name. Each database is closed and its
 * files removed by closeMigrationDatabases() (the suite's afterEach).
 */

const opened: { db: Db; dataDir?: string }[] = [];

/** A new, empty database of `dialect` with the migrations up to and including `name`. */
export async function databaseMigratedTo(dialect: DialectName, name: string): Promise<Db> {
  const fresh = await freshDatabase(dialect);
  const db = createDb(fresh.url, fresh.dataDir);
  opened.push({ db, dataDir: fresh.dataDir });
  await migrateTo(db, name);
  return db;
}

/** Runs the code's migrations up or down to `name`; throws what a migration threw. */
export async function migrateTo(db: Db, name: string): Promise<void> {
  const provider = { getMigrations: async () => migrations(db.dialect) } satisfies MigrationProvider;
  const { error } = await new Migrator({ db: db.kysely, provider }).migrateTo(name);
  if (error) throw error;
}

export async function closeMigrationDatabases(): Promise<void> {
  for (const { db, dataDir } of opened.splice(0)) {
    await db.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

import fs from 'node:fs';
import path from 'node:path';
import { Kysely, Migrator, PostgresDialect, type MigrationProvider } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema';
import { migrations } from './migrations';
import { parseDatabaseUrl, type DialectName } from './url';
import { withStatementCache } from './statement-cache';
import { FileLockedSqliteDialect } from './sqlite-file-lock';
import { tagDialect } from './dialect';
import { countingErrors } from './error-counting';
import { readEnv } from '../lib/config/env';
import { forgetProcessSingleton, processSingleton } from '../lib/process-singletons';

export type { Database } from './schema';
export type { DialectName } from './url';
export { dialectOf, tagDialect } from './dialect';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
}

const sqliteBusyTimeoutMs = 5_000;
const postgresPoolSize = 10;

// NOTE: int8 (bigint) columns hold millisecond times, which fit in a double exactly;
// without this pg hands them back as strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * SQLite's 2 MiB default page cache: at 1,000,000 users the admin list's walks (users_list_walk_idx,
 * then a requirement and a factor probe per user) and the search index's keys spill out of it
 * and reread pages from the OS on every page view. 64 MiB keeps them in: "expired" p95
 * 4.9–6.4 → 4.1–4.8 ms, a common first name 24–27 → 17–19 ms (bench/admin.ts). It is an
 * upper bound, filled only as pages are read.
 */
const sqliteCacheKiB = 64 * 1024;

/** The connection settings every SQLite handle gets (the app's, the CLI's, the benches'). */
export function configureSqlite(database: SQLite.Database): SQLite.Database {
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
  database.pragma('synchronous = NORMAL');
  database.pragma(`cache_size = -${sqliteCacheKiB}`);
  return database;
}

/**
 * Opens the database named by `url`: SQLite when unset or `file:`/`sqlite:` (WAL, foreign
 * keys, busy timeout), PostgreSQL for `postgres://` (a pg pool). Failures are counted for
 * /metrics (db/error-counting.ts).
 */
export function createDb(url: string | undefined, dataDir = readEnv().dataDir): Db {
  const parsed = parseDatabaseUrl(url, dataDir);
  if (parsed.dialect === 'sqlite') {
    fs.mkdirSync(path.dirname(parsed.file), { recursive: true, mode: 0o700 });
    const database = configureSqlite(new SQLite(parsed.file));
    const kysely = tagDialect(new Kysely<Database>({ dialect: countingErrors(new FileLockedSqliteDialect(parsed.file, { database: withStatementCache(database) }), 'sqlite') }), 'sqlite');
    return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
  }
  const pool = new pg.Pool({ connectionString: parsed.connectionString, max: postgresPoolSize });
  const kysely = tagDialect(new Kysely<Database>({ dialect: countingErrors(new PostgresDialect({ pool }), 'postgres') }), 'postgres');
  return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(db.dialect) };
  const migrator = new Migrator({ db: db.kysely, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The server process's database, opened and migrated once and shared by every bundle
 * (lib/process-singletons.ts). A failed open is not kept, so the next request retries (and
 * fails closed meanwhile).
 */
export function getDb(): Promise<Db> {
  return processSingleton('db', () => {
    const opening = (async () => {
      const db = createDb(readEnv().databaseUrl);
      try {
        await migrateToLatest(db);
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
      return db;
    })();
    opening.catch(() => forgetProcessSingleton('db', opening));
    return opening;
  });
}

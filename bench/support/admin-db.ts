/**
 * Seeded databases for bench/admin.ts, opened with a Kysely that records every statement.
 *
 * - SQLite: the seeded file is cached under the OS temp dir (not in git), keyed by the user
 *   count and a hash of the migrations and the seed generator, so later runs skip seeding.
 *   Each run works on a fresh copy of it (the bulk change writes), opened with the same
 *   pragmas as db/index.ts createDb().
 * - PostgreSQL: a fresh database of its own on the server named by the URL, migrated,
 *   seeded, then `VACUUM ANALYZE`d (what autovacuum does on its own shortly after a load);
 *   dropped again at close.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { configureSqlite, createDb, tagDialect, migrateToLatest, type Database, type DialectName } from '../../db';
import { seedPostgres, seedSqlite, type SeedSummary } from './admin-seed';

export const adminBenchDir = path.join(os.tmpdir(), 'portcullis-bench', 'admin');

export interface StatementRecord {
  sql: string;
  parameters: readonly unknown[];
  ms: number;
}

/** Collects the statements run while it is on. */
export class StatementRecorder {
  on = false;
  statements: StatementRecord[] = [];
  start(): void {
    this.statements = [];
    this.on = true;
  }
  stop(): StatementRecord[] {
    this.on = false;
    return this.statements;
  }
  log = (event: LogEvent): void => {
    if (!this.on) return;
    this.statements.push({ sql: event.query.sql, parameters: event.query.parameters, ms: event.queryDurationMillis });
  };
}

export interface BenchDb {
  dialect: DialectName;
  kysely: Kysely<Database>;
  recorder: StatementRecorder;
  /** PostgreSQL: the pool under `kysely` (its 'acquire' events show which connections a call used). */
  pool?: pg.Pool;
  seed: SeedSummary;
  /** Seeding was skipped: the cached SQLite file was reused (seed.ms is from when it was made). */
  seedCached: boolean;
  /** PostgreSQL: pages marked all-visible after the VACUUM, per table ("all/total"); index-only scans need them. */
  allVisible?: Record<string, string>;
  /** The plan of a statement: EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL). */
  explain(sql: string, parameters: readonly unknown[]): Promise<string[]>;
  /** A bench-only query on the raw handle (picking rows to aim at, counting rows written). */
  raw<T>(sql: string, parameters?: readonly unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

function sourceHash(): string {
  const h = createHash('sha256');
  const root = path.resolve(__dirname, '..', '..');
  const migrationsDir = path.join(root, 'db', 'migrations');
  for (const f of fs.readdirSync(migrationsDir).sort()) h.update(f).update(fs.readFileSync(path.join(migrationsDir, f)));
  h.update(fs.readFileSync(path.join(__dirname, 'admin-seed.ts')));
  return h.digest('hex').slice(0, 12);
}

/** Same pragmas as db/index.ts createDb(). */
function openSqlite(file: string): SQLite.Database {
  return configureSqlite(new SQLite(file));
}

async function sqliteFile(users: number, reseed: boolean): Promise<{ file: string; seed: SeedSummary; cached: boolean }> {
  fs.mkdirSync(adminBenchDir, { recursive: true });
  const cache = path.join(adminBenchDir, `sqlite-${users}-${sourceHash()}.db`);
  const meta = `${cache}.json`;
  if (!reseed && fs.existsSync(cache) && fs.existsSync(meta)) {
    return { file: cache, seed: JSON.parse(fs.readFileSync(meta, 'utf8')) as SeedSummary, cached: true };
  }
  // Stale caches of this user count (other sources) are removed: each is hundreds of MB.
  for (const f of fs.readdirSync(adminBenchDir)) {
    if (f.startsWith(`sqlite-${users}-`)) fs.rmSync(path.join(adminBenchDir, f), { force: true });
  }
  const building = `${cache}.building-${process.pid}`;
  const migrating = createDb(`file:${building}`, adminBenchDir);
  await migrateToLatest(migrating);
  await migrating.close();
  const database = openSqlite(building);
  const seed = seedSqlite(database, users);
  database.pragma('wal_checkpoint(TRUNCATE)');
  database.close();
  for (const suffix of ['-wal', '-shm']) fs.rmSync(`${building}${suffix}`, { force: true });
  fs.renameSync(building, cache);
  fs.writeFileSync(meta, JSON.stringify(seed));
  return { file: cache, seed, cached: false };
}

/**
 * @param options.pragmas extra pragmas after createDb()'s own, e.g. `['cache_size = -131072']`:
 *   for trying a proposed setting, never for the recorded results.
 */
export async function openSqliteBench(users: number, options: { reseed?: boolean; pragmas?: string[] } = {}): Promise<BenchDb> {
  const { file: cache, seed, cached } = await sqliteFile(users, options.reseed ?? false);
  const runDir = fs.mkdtempSync(path.join(adminBenchDir, 'run-'));
  const file = path.join(runDir, 'bench.db');
  fs.copyFileSync(cache, file);
  const database = openSqlite(file);
  for (const p of options.pragmas ?? []) database.pragma(p);
  const recorder = new StatementRecorder();
  const kysely = tagDialect(new Kysely<Database>({ dialect: new SqliteDialect({ database }), log: recorder.log }), 'sqlite');
  return {
    dialect: 'sqlite',
    kysely,
    recorder,
    seed,
    seedCached: cached,
    async explain(sql, parameters) {
      const rows = database.prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as { id: number; parent: number; detail: string }[];
      const depth = new Map<number, number>([[0, 0]]);
      return rows.map((r) => {
        const d = (depth.get(r.parent) ?? 0) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d - 1)}${r.detail}`;
      });
    },
    async raw<T>(sql: string, parameters: readonly unknown[] = []) {
      return database.prepare(sql).all(...(parameters as unknown[])) as T[];
    },
    async close() {
      await kysely.destroy();
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/**
 * @param options.pgOptions libpq `options` for the pool (e.g. `-c max_parallel_workers_per_gather=0`):
 *   for trying a proposed setting, never for the recorded results.
 */
export async function openPostgresBench(serverUrl: string, users: number, options: { pgOptions?: string } = {}): Promise<BenchDb> {
  const name = `bench_admin_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const migrating = createDb(url.toString());
  await migrateToLatest(migrating);
  await migrating.close();

  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  let seed: SeedSummary;
  let allVisible: Record<string, string> = {};
  try {
    seed = await seedPostgres(client, users);
    const started = performance.now();
    // NOTE: on the throwaway cluster (fsync and synchronous_commit off) a VACUUM right after
    // the load marked no page all-visible (relallvisible 0 on every table), so every
    // "index-only" scan read the heap as well, unlike a table autovacuum has been through.
    // A checkpoint and a second VACUUM a second later do mark them; the seed line records
    // the result (allVisible).
    const visibility = () =>
      client.query<{ relname: string; relpages: number; relallvisible: number }>(
        `select relname, relpages, relallvisible from pg_class where relname in ('users', 'mfa_requirements', 'factors') order by relname`,
      );
    for (let round = 0; round < 5; round++) {
      await client.query('checkpoint');
      await client.query('vacuum analyze');
      if ((await visibility()).rows.every((r) => r.relallvisible >= r.relpages)) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    seed.vacuumAnalyzeMs = performance.now() - started;
    const visible = await visibility();
    allVisible = Object.fromEntries(visible.rows.map((r) => [r.relname, `${r.relallvisible}/${r.relpages}`]));
  } finally {
    await client.end();
  }

  const pool = new pg.Pool({ connectionString: url.toString(), max: 10, ...(options.pgOptions ? { options: options.pgOptions } : {}) });
  const recorder = new StatementRecorder();
  const kysely = tagDialect(new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: recorder.log }), 'postgres');
  return {
    dialect: 'postgres',
    kysely,
    recorder,
    pool,
    seed,
    seedCached: false,
    allVisible,
    async explain(sql, parameters) {
      const result = await kysely.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain (analyze, buffers) ${sql}`, [...parameters]),
      );
      return result.rows.map((r) => r['QUERY PLAN']);
    },
    async raw<T>(sql: string, parameters: readonly unknown[] = []) {
      const result = await pool.query(sql, [...parameters]);
      return result.rows as T[];
    },
    async close() {
      await kysely.destroy();
      const drop = new pg.Client({ connectionString: serverUrl });
      await drop.connect();
      await drop.query(`drop database if exists ${name}`);
      await drop.end();
    },
  };
}

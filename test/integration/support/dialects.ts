import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, migrateToLatest, type Db, type DialectName } from '../../../db';

/**
 * One contract suite, two dialects: every data-layer test runs on a fresh SQLite file and,
 * when TEST_POSTGRES_URL is set, on a fresh PostgreSQL database of its own.
 */
export const dialects: DialectName[] = process.env.TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

if (!process.env.TEST_POSTGRES_URL && !(globalThis as { __pgNote?: boolean }).__pgNote) {
  (globalThis as { __pgNote?: boolean }).__pgNote = true;
  console.warn('TEST_POSTGRES_URL is not set: PostgreSQL runs of the contract suites are skipped');
}

/**
 * A new, empty database of the dialect: a SQLite file in a temp dir of its own, or a new
 * PostgreSQL database on the TEST_POSTGRES_URL server. Not yet migrated.
 */
export async function freshDatabase(dialect: DialectName): Promise<{ url: string; dataDir?: string }> {
  if (dialect === 'sqlite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-test-'));
    return { url: `file:${path.join(dataDir, 'test.db')}`, dataDir };
  }
  const adminUrl = process.env.TEST_POSTGRES_URL!;
  const name = `pc_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString() };
}

export async function freshDb(dialect: DialectName): Promise<Db> {
  const { url, dataDir } = await freshDatabase(dialect);
  const db = createDb(url, dataDir);
  await migrateToLatest(db);
  if (!dataDir) return db;
  const close = db.close;
  // The file is the test's alone: closing the database removes it.
  return { ...db, close: async () => { await close(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

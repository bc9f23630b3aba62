import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { migrations } from './migrations';
import { withSqliteFileLock } from './sqlite-file-lock';

/**
 * `npm run cli -- backup <file>`: a consistent copy of the SQLite database while the server
 * runs, by SQLite's online backup API (better-sqlite3's `.backup()`), then checked.
 *
 * - Consistent: the pages are copied in one step, under one read transaction. In WAL mode a
 *   reader sees the last committed state, WAL frames included (a plain file copy would miss
 *   them), and writers go on meanwhile; a copy made in several steps would start over each
 *   time another connection wrote.
 * - Never overwrites: the file is created exclusively (mode 0600) before SQLite writes into it.
 * - A file of its own: the copy is switched to a rollback journal, so it is one file with no
 *   `-wal`/`-shm` beside it; a server started on it switches it back to WAL.
 * - Checked: SQLite's integrity_check, every migration of this version applied, the users
 *   table readable. A copy that fails is removed, and the error says why.
 */
export interface BackupReport {
  /** The database copied. */
  source: string;
  /** The copy, an absolute path. */
  file: string;
  bytes: number;
  pages: number;
  /** Migrations applied in the copy: all of this version's. */
  migrations: number;
  users: number;
}

// The largest step better-sqlite3 passes to sqlite3_backup_step: every page in one step.
const allPages = 0x7fffffff;

/**
 * Copies the SQLite database `sourceFile` to `destination` and checks the copy.
 * @throws Error saying what went wrong (the destination exists, its directory doesn't, the
 *   copy failed its check); nothing is left at `destination` unless it existed before
 */
export async function backupSqliteDatabase(sourceFile: string, destination: string): Promise<BackupReport> {
  const file = path.resolve(destination);
  if (!fs.existsSync(sourceFile)) throw new Error(`There is no database at ${sourceFile} to back up.`);
  createExclusively(file);
  try {
    const source = new SQLite(sourceFile, { readonly: true, fileMustExist: true });
    try {
      source.pragma('busy_timeout = 5000');
      await withSqliteFileLock(sourceFile, () => source.backup(file, { progress: () => allPages }));
    } finally {
      source.close();
    }
    const checked = checkCopy(file);
    return { source: sourceFile, file, bytes: fs.statSync(file).size, ...checked };
  } catch (err) {
    for (const leftover of [file, `${file}-journal`, `${file}-wal`, `${file}-shm`]) fs.rmSync(leftover, { force: true });
    throw err;
  }
}

/** An empty file of our own at `file`, 0600, or an error if anything is there already. */
function createExclusively(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Error(`${file} exists already: a backup never overwrites a file; choose a new name.`);
    if (code === 'ENOENT') throw new Error(`${path.dirname(file)} does not exist: create the directory first.`);
    throw err;
  }
  fs.closeSync(fd);
  // The umask may have taken bits away, never added any; this says 0600 whatever it was.
  fs.chmodSync(file, 0o600);
}

/** Rollback journal, then integrity, migrations and users: what a server started on the copy needs. */
function checkCopy(file: string): Pick<BackupReport, 'pages' | 'migrations' | 'users'> {
  const copy = new SQLite(file, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const problems = copy.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    if (problems.length !== 1 || problems[0]!.integrity_check !== 'ok') {
      throw new Error(`The copy failed SQLite's integrity check: ${problems.slice(0, 3).map((p) => p.integrity_check).join('; ')}`);
    }
    let applied: string[];
    try {
      applied = copy.prepare('select name from kysely_migration').pluck().all() as string[];
    } catch {
      throw new Error('The copy has no migrations table: this is not a Portcullis database, or it was never migrated.');
    }
    const known = Object.keys(migrations('sqlite'));
    const missing = known.filter((name) => !applied.includes(name));
    const unknown = applied.filter((name) => !known.includes(name));
    if (missing.length > 0) {
      throw new Error(`The copy's migrations are not current (missing ${missing.join(', ')}): start the server or run \`npm run db:migrate\`, then back up again.`);
    }
    if (unknown.length > 0) {
      throw new Error(`The copy has migrations this version doesn't know (${unknown.join(', ')}): back up with the version the server runs.`);
    }
    const users = copy.prepare('select count(*) from users').pluck().get() as number;
    const pages = copy.pragma('page_count', { simple: true }) as number;
    return { pages, migrations: applied.length, users };
  } finally {
    copy.close();
  }
}

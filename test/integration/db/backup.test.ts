import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { backupSqliteDatabase } from '../../../db/backup';
import { createDb, type Db } from '../../../db';
import { insertUser } from '../../../db/queries/users';
import { writeAudit } from '../../../db/queries/audit';
import { cliTestTimeoutMs, runCli } from '../support/cli';
import { freshDatabase, freshDb } from '../support/dialects';

/*
 * `npm run cli -- backup FILE` (db/backup.ts). Personas: Olga, the operator, who backs up
 * while the portal runs; the portal itself, played by a handle in this process that keeps
 * writing (a user and its audit entry per transaction, as the admin services do).
 */
const secret = 'olgas-backup-test-secret-0123456789abcdef';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function sqliteDb(): Promise<{ db: Db; file: string; dataDir: string }> {
  const db = await freshDb('sqlite');
  cleanup.push(() => db.close());
  const file = (await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(db.kysely)).rows[0]!.file;
  return { db, file, dataDir: path.dirname(file) };
}

/** A user and its audit entry, in one transaction: a copy holds both or neither. */
function writeUser(db: Db, n: number): Promise<void> {
  const id = `w${String(n).padStart(6, '0')}`;
  return db.kysely.transaction().execute(async (trx) => {
    await insertUser(trx, { id, username: id, email: null, displayName: null, passwordHash: null, state: 'active', role: 'user', createdAt: n });
    await writeAudit(trx, { at: n, actorId: null, actorLabel: 'cli', action: 'user.created', targetType: 'user', targetId: id });
  });
}

describe('backup on SQLite, while the portal writes', () => {
  it(
    'Olga’s copy is consistent and complete up to a point: every user with its audit entry, none missing before the last, integrity ok',
    async () => {
      const { db, file, dataDir } = await sqliteDb();
      // Some bulk first, so the copy has pages to copy: 3000 users in one transaction.
      await db.kysely.transaction().execute(async (trx) => {
        for (let n = 1; n <= 3000; n++) {
          const id = `bulk${n}`;
          await insertUser(trx, { id, username: id, email: `${id}@example.com`, displayName: `Bulk ${n}`, passwordHash: null, state: 'active', role: 'user', createdAt: n });
        }
      });
      let written = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          await writeUser(db, written + 1);
          written++;
          await sleep(2);
        }
      })();
      while (written < 20) await sleep(5);
      const writtenBefore = written;
      const backupFile = path.join(dataDir, 'olga-backup.db');
      const backup = await runCli({ DATABASE_URL: `file:${file}`, PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_SECRET: secret }, 'backup', backupFile);
      const writtenAfter = written;
      writing = false;
      await writer;

      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(
        new RegExp(`^Backed up ${file} to ${backupFile}: \\d+ bytes \\(\\d+ pages\\), mode 0600; integrity ok, \\d+ migrations \\(current\\), \\d+ users\\.\\n`),
      );
      expect(backup.stdout).toContain('Keep PORTCULLIS_SECRET with it');
      expect(writtenAfter).toBeGreaterThan(writtenBefore); // the portal kept writing while the CLI ran

      expect(fs.statSync(backupFile).mode & 0o777).toBe(0o600);
      // One file: a rollback journal, nothing beside it.
      expect(fs.existsSync(`${backupFile}-wal`)).toBe(false);
      const copy = new SQLite(backupFile, { readonly: true });
      cleanup.push(() => void copy.close());
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const ids = copy.prepare("select id from users where id like 'w%' order by id").pluck().all() as string[];
      const audited = copy.prepare("select target_id from audit_log where action = 'user.created' order by target_id").pluck().all() as string[];
      expect(audited).toEqual(ids);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `w${String(i + 1).padStart(6, '0')}`));
      expect(ids.length).toBeGreaterThanOrEqual(writtenBefore);
      expect(ids.length).toBeLessThanOrEqual(writtenAfter);
      expect(copy.prepare("select count(*) from users where id like 'bulk%'").pluck().get()).toBe(3000);
      expect(backup.stdout).toContain(`${3000 + ids.length} users.`);
    },
    cliTestTimeoutMs,
  );

  it(
    'never overwrites: an existing file stays as it was, exit 1',
    async () => {
      const { file, dataDir } = await sqliteDb();
      const existing = path.join(dataDir, 'yesterday.db');
      fs.writeFileSync(existing, 'yesterday’s backup');
      const { code, stdout, stderr } = await runCli({ DATABASE_URL: `file:${file}`, PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_SECRET: secret }, 'backup', existing);
      expect([code, stdout]).toEqual([1, '']);
      expect(stderr).toBe(`backup failed: ${existing} exists already: a backup never overwrites a file; choose a new name.\n`);
      expect(fs.readFileSync(existing, 'utf8')).toBe('yesterday’s backup');
    },
    cliTestTimeoutMs,
  );

  it('a copy that fails its check is removed, and the error says why: a database behind on its migrations', async () => {
    const { db, file, dataDir } = await sqliteDb();
    await db.kysely.deleteFrom('kysely_migration' as never).where('name' as never, '=', '015-sign-in-and-key-expiry' as never).execute();
    const target = path.join(dataDir, 'behind.db');
    await expect(backupSqliteDatabase(file, target)).rejects.toThrow(
      "The copy's migrations are not current (missing 015-sign-in-and-key-expiry): start the server or run `npm run db:migrate`, then back up again.",
    );
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith('behind'))).toEqual([]);
  });

  it('a file that is no Portcullis database: no migrations table, nothing left behind', async () => {
    const { dataDir } = await freshDatabase('sqlite');
    cleanup.push(() => fs.rmSync(dataDir!, { recursive: true, force: true }));
    const stranger = path.join(dataDir!, 'stranger.db');
    new SQLite(stranger).exec('create table notes (body text)').close();
    await expect(backupSqliteDatabase(stranger, path.join(dataDir!, 'copy.db'))).rejects.toThrow(/^The copy has no migrations table/);
    expect(fs.existsSync(path.join(dataDir!, 'copy.db'))).toBe(false);
  });

  it('a directory that does not exist is named, and nothing is created', async () => {
    const { file, dataDir } = await sqliteDb();
    const target = path.join(dataDir, 'no-such-dir', 'copy.db');
    await expect(backupSqliteDatabase(file, target)).rejects.toThrow(`${path.dirname(target)} does not exist: create the directory first.`);
    expect(fs.existsSync(path.dirname(target))).toBe(false);
  });
});

describe('backup on PostgreSQL', () => {
  it(
    'refuses and points at pg_dump, without connecting and without repeating the password',
    async () => {
      const { dataDir } = await freshDatabase('sqlite');
      cleanup.push(() => fs.rmSync(dataDir!, { recursive: true, force: true }));
      // The TEST_POSTGRES_URL server when there is one, with a password added: nothing connects anyway.
      const url = new URL(process.env.TEST_POSTGRES_URL ?? 'postgres://portcullis@127.0.0.1:5432/portcullis');
      url.password = 'olgas-pg-password';
      const target = path.join(dataDir!, 'pg.db');
      const { code, stdout, stderr } = await runCli({ DATABASE_URL: url.toString(), PORTCULLIS_DATA_DIR: dataDir!, PORTCULLIS_SECRET: secret }, 'backup', target);
      expect([code, stdout]).toEqual([1, '']);
      expect(stderr).toBe(
        'backup copies a SQLite database; DATABASE_URL points at PostgreSQL: use pg_dump (README, "Backups"), e.g. pg_dump --format=custom --file=portcullis.dump "$DATABASE_URL"\n',
      );
      expect(fs.existsSync(target)).toBe(false);
    },
    cliTestTimeoutMs,
  );
});

import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { freshDatabase } from '../support/dialects';

/**
 * Two handles on one SQLite file in one process — two "app instances" in a test, or the CLI
 * beside the server — must not starve each other: a write transaction held open across an
 * await on one handle makes the other wait its turn, not spin in SQLite's busy wait on the
 * only thread until SQLITE_BUSY.
 */
describe('SQLite handles on the same file share one lock', () => {
  const opened: Db[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function twoInstances(): Promise<[Db, Db]> {
    const { url, dataDir } = await freshDatabase('sqlite');
    dirs.push(dataDir!);
    const ada = createDb(url, dataDir);
    opened.push(ada);
    await migrateToLatest(ada);
    const grace = createDb(url, dataDir);
    opened.push(grace);
    return [ada, grace];
  }

  const row = (key: string) => ({ key, failures: 1, window_started_at: 0, blocked_until: 0 });

  it("Grace's write waits for Ada's open transaction instead of failing busy", async () => {
    const [ada, grace] = await twoInstances();
    const order: string[] = [];
    const adaTransaction = ada.kysely.transaction().execute(async (trx) => {
      await trx.insertInto('auth_throttle').values(row('ada-1')).execute();
      order.push('ada wrote first row');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await trx.insertInto('auth_throttle').values(row('ada-2')).execute();
      order.push('ada commits');
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = Date.now();
    const graceWrite = grace.kysely
      .insertInto('auth_throttle')
      .values(row('grace'))
      .execute()
      .then(() => order.push('grace wrote'));
    await Promise.all([adaTransaction, graceWrite]);
    expect(order).toEqual(['ada wrote first row', 'ada commits', 'grace wrote']);
    // Well under the 5 s busy timeout: Grace queued, she did not spin.
    expect(Date.now() - started).toBeLessThan(2_000);
    const keys = await grace.kysely.selectFrom('auth_throttle').select('key').orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['ada-1', 'ada-2', 'grace']);
  });

  it('a transaction that fails rolls back and hands the lock on', async () => {
    const [ada, grace] = await twoInstances();
    await expect(
      ada.kysely.transaction().execute(async (trx) => {
        await trx.insertInto('auth_throttle').values(row('ada')).execute();
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('abandoned');
      }),
    ).rejects.toThrow('abandoned');
    await grace.kysely.insertInto('auth_throttle').values(row('grace')).execute();
    const count = await sql<{ n: number }>`select count(*) as n from auth_throttle`.execute(ada.kysely);
    expect(Number(count.rows[0]!.n)).toBe(1);
  });

  it('a handle closed mid-life leaves the other working', async () => {
    const [ada, grace] = await twoInstances();
    await ada.close();
    opened.splice(opened.indexOf(ada), 1);
    await grace.kysely.insertInto('auth_throttle').values(row('grace')).execute();
    const keys = await grace.kysely.selectFrom('auth_throttle').select('key').execute();
    expect(keys).toHaveLength(1);
  });
  it('a transaction that reads, then writes, survives another process committing in between (BEGIN IMMEDIATE)', async () => {
    const [ada] = await twoInstances();
    const file = (await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(ada.kysely)).rows[0]!.file;
    // Another process (the CLI, say): its own connection, outside this process's lock.
    const cli = new SQLite(file);
    cli.pragma('busy_timeout = 50');
    let cliError: unknown = null;
    try {
      await ada.kysely.transaction().execute(async (trx) => {
        await trx.selectFrom('auth_throttle').selectAll().execute();
        try {
          cli.prepare(`insert into auth_throttle (key, failures, window_started_at, blocked_until) values ('cli', 1, 0, 0)`).run();
        } catch (err) {
          cliError = err;
        }
        await trx.insertInto('auth_throttle').values(row('ada')).execute();
      });
    } finally {
      cli.close();
    }
    // Ada's transaction held the write lock from its BEGIN: the other process waited (here,
    // 50 ms, then gave up), and Ada's read-then-write committed. With a deferred BEGIN the CLI
    // would have committed first and Ada's write failed with "database is locked".
    expect(String(cliError)).toMatch(/database is locked/);
    const keys = await ada.kysely.selectFrom('auth_throttle').select('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['ada']);
  });
});

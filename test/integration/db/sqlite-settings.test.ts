import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createDb, type Db } from '../../../db';
import { freshDatabase } from '../support/dialects';

/** What every SQLite handle createDb() opens is set to (db/index.ts configureSqlite()). */
describe('a SQLite handle from createDb()', () => {
  let db: Db | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await db?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs in WAL mode with foreign keys, a busy timeout, NORMAL sync and a 64 MiB page cache', async () => {
    const fresh = await freshDatabase('sqlite');
    dataDir = fresh.dataDir;
    db = createDb(fresh.url, fresh.dataDir);
    const read = async (pragma: string) => Object.values((await sql.raw<Record<string, unknown>>(`pragma ${pragma}`).execute(db!.kysely)).rows[0]!)[0];
    expect(await read('journal_mode')).toBe('wal');
    expect(await read('foreign_keys')).toBe(1);
    expect(await read('busy_timeout')).toBe(5000);
    expect(await read('synchronous')).toBe(1); // NORMAL
    expect(await read('cache_size')).toBe(-65536); // KiB
  });
});

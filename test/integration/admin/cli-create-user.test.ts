import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../../../db';
import { verifyPassword } from '../../../lib/auth/password';
import { dialects, freshDatabase } from '../support/dialects';
import { cliTestTimeoutMs, runCliWithTsx, cliTestSecret } from '../support/cli';

/*
 * The operator's CLI creates accounts through the same service as the console and the API,
 * so the same password rules apply: run as a real process against a real database.
 * Olga the operator first tries a common password for Bea, then a full-width one.
 */
describe.each(dialects)('CLI create-user password rules on %s', (dialect) => {
  let db: Db;
  let url: string;

  const cli = (...args: string[]) => runCliWithTsx({ DATABASE_URL: url, PORTCULLIS_SECRET: cliTestSecret }, ...args);

  beforeEach(async () => {
    const fresh = await freshDatabase(dialect);
    url = fresh.url;
    db = createDb(url, fresh.dataDir);
    await migrateToLatest(db);
  });
  afterEach(async () => {
    await db.close();
  });

  it('refuses a blocklisted password with the reason and creates no one; a full-width one is stored in its NFKC form', async () => {
    const refused = await cli('create-user', '--username', 'bea', '--password', 'Password123456789');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('password: This password is on a list of common or breached passwords; choose another.');
    expect(await db.kysely.selectFrom('users').select('id').execute()).toEqual([]);

    const created = await cli('create-user', '--username', 'bea', '--password', 'ｂｅａ’ｓ ｏｗｎ ｐａｓｓｐｈｒａｓｅ');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const { password_hash } = await db.kysely.selectFrom('users').select('password_hash').where('username', '=', 'bea').executeTakeFirstOrThrow();
    expect(await verifyPassword(password_hash!, 'bea’s own passphrase')).toBe(true);
  }, cliTestTimeoutMs);
});

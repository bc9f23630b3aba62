import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Db } from '../../../db';
import { dialects } from '../support/dialects';
import { closeMigrationDatabases, databaseMigratedTo, migrateTo } from '../support/migration';

/**
 * 018-remembered-devices on a database with a policy and a person in it: the policy gets
 * `remember_days` (null, checked 1 … 90), the devices table refuses a second row with the
 * same token hash and goes with its user; down removes both.
 */
describe.each(dialects)('migration 018-remembered-devices on %s', (dialect) => {
  let db: Db;
  afterEach(closeMigrationDatabases);

  const any = () => db.kysely as unknown as Kysely<any>;
  const device = (id: string, hash: string) => ({
    id,
    user_id: 'u-tina',
    token_hash: hash,
    browser: 'chrome',
    os: 'linux',
    created_at: 1,
    last_seen_at: 1,
    expires_at: 2,
  });

  it('adds remember_days and the devices table, and down takes them back', async () => {
    db = await databaseMigratedTo(dialect, '017-helpdesk-role');
    await any()
      .insertInto('users')
      .values({ id: 'u-tina', username: 'tina', username_lower: 'tina', email: 'tina@example.org', state: 'active', role: 'user', created_at: 1 })
      .execute();
    const policy = {
      id: 'p1',
      name: 'P',
      name_lower: 'p',
      enabled: 1,
      scope: 'all',
      include_group_ids: '[]',
      exclude_group_ids: '[]',
      conditions: '{}',
      resources: '["portal"]',
      action: 'require_mfa',
      priority: 0,
      created_at: 1,
      updated_at: 1,
    };
    await any().insertInto('policies').values(policy).execute();

    await migrateTo(db, '018-remembered-devices');
    expect(await any().selectFrom('policies').select('remember_days').executeTakeFirstOrThrow()).toEqual({ remember_days: null });
    await any().updateTable('policies').set({ remember_days: 90 }).execute();
    await expect(any().updateTable('policies').set({ remember_days: 91 }).execute()).rejects.toThrow(/check/i);
    await expect(any().updateTable('policies').set({ remember_days: 0 }).execute()).rejects.toThrow(/check/i);
    await any().insertInto('remembered_devices').values(device('d1', 'h1')).execute();
    await expect(any().insertInto('remembered_devices').values(device('d2', 'h1')).execute()).rejects.toThrow(/unique/i);
    await any().deleteFrom('users').where('id', '=', 'u-tina').execute();
    expect(await any().selectFrom('remembered_devices').selectAll().execute()).toEqual([]);

    await migrateTo(db, '017-helpdesk-role');
    await expect(any().selectFrom('remembered_devices').selectAll().execute()).rejects.toThrow();
    const row = await any().selectFrom('policies').selectAll().executeTakeFirstOrThrow();
    expect(row).not.toHaveProperty('remember_days');
  });
});

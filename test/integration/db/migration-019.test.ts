import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { Db } from '../../../db';
import { dialects } from '../support/dialects';
import { closeMigrationDatabases, databaseMigratedTo, migrateTo } from '../support/migration';

/**
 * 019-policy-grace on a database with a policy and a person in it: the policy gets
 * grace_days 0 (forced at once, as before), bounded 0 … 365; policy_grace holds one window
 * per (user, policy), ending after it starts, and goes with its policy or user. Down drops both.
 */
describe.each(dialects)('migration 019-policy-grace on %s', (dialect) => {
  let db: Db;
  afterEach(closeMigrationDatabases);

  const any = () => db.kysely as unknown as Kysely<any>;
  const window = (user_id: string, policy_id: string, starts_at: number, ends_at: number) => ({ user_id, policy_id, starts_at, ends_at });

  it('adds grace_days (0 for existing policies, 0 … 365) and policy_grace, and down takes them back', async () => {
    db = await databaseMigratedTo(dialect, '017-helpdesk-role');
    await any().insertInto('users').values({ id: 'u-gus', username: 'gus', username_lower: 'gus', state: 'active', role: 'user', created_at: 1 }).execute();
    await any()
      .insertInto('policies')
      .values({ id: 'p-sales', name: 'Sales MFA', name_lower: 'sales mfa', enabled: 1, scope: 'all', action: 'require_mfa', priority: 0, created_at: 1, updated_at: 1 })
      .execute();

    await migrateTo(db, '019-policy-grace');
    expect(await any().selectFrom('policies').select(['id', 'grace_days']).execute()).toEqual([{ id: 'p-sales', grace_days: 0 }]);
    await any().updateTable('policies').set({ grace_days: 365 }).execute();
    await expect(any().updateTable('policies').set({ grace_days: 366 }).execute()).rejects.toThrow(/check/i);
    await expect(any().updateTable('policies').set({ grace_days: -1 }).execute()).rejects.toThrow(/check/i);

    await any().insertInto('policy_grace').values(window('u-gus', 'p-sales', 10, 20)).execute();
    await expect(any().insertInto('policy_grace').values(window('u-gus', 'p-sales', 30, 40)).execute()).rejects.toThrow(); // one per (user, policy)
    await expect(any().insertInto('policy_grace').values(window('u-gus', 'p-other', 10, 20)).execute()).rejects.toThrow(); // no such policy
    await any().deleteFrom('policies').where('id', '=', 'p-sales').execute();
    expect(await any().selectFrom('policy_grace').selectAll().execute()).toEqual([]); // went with its policy

    await migrateTo(db, '017-helpdesk-role');
    const columns = (await db.kysely.introspection.getTables()).find((t) => t.name === 'policies')!.columns.map((c) => c.name);
    expect(columns).not.toContain('grace_days');
    expect((await db.kysely.introspection.getTables()).map((t) => t.name)).not.toContain('policy_grace');
  });
});

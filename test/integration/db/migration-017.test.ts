import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../../../db';
import { dialects } from '../support/dialects';
import { closeMigrationDatabases, databaseMigratedTo, migrateTo } from '../support/migration';

/**
 * 017-helpdesk-role on a database with people in it: the role checks of `users` and
 * `api_keys` admit "helpdesk" and nothing else new; on SQLite the rebuilt `users` keeps
 * every row, every row that references it (no cascade), its indexes and its search triggers.
 * Down turns helpdesk people into users and helpdesk keys into read keys.
 */
describe.each(dialects)('migration 017-helpdesk-role on %s', (dialect) => {
  let db: Db;
  afterEach(closeMigrationDatabases);

  const any = () => db.kysely as unknown as Kysely<any>;
  const user = (id: string, username: string, role: string) => ({
    id,
    username,
    username_lower: username,
    email: `${username}@example.org`,
    state: 'active',
    role,
    created_at: 1,
  });
  const key = (id: string, role: string) => ({ id, name: id, key_hash: `hash-${id}`, prefix: 'pcl_x', role, created_at: 1 });
  const schemaOf = async (table: string) =>
    dialect === 'sqlite'
      ? (await sql<{ type: string; name: string }>`select type, name from sqlite_master where tbl_name = ${table} order by type, name`.execute(any())).rows
      : [];
  const refuses = async (write: Promise<unknown>) => expect(write).rejects.toThrow(/check/i);

  it('admits helpdesk for people and keys, keeps everything that was there, and down takes it back', async () => {
    db = await databaseMigratedTo(dialect, '015-sign-in-and-key-expiry');
    await any().insertInto('users').values([user('u-ada', 'ada', 'admin'), user('u-hal', 'hal', 'user')]).execute();
    await any().insertInto('groups').values({ id: 'g-desk', name: 'Desk', name_lower: 'desk', created_at: 1 }).execute();
    await any().insertInto('group_members').values({ group_id: 'g-desk', user_id: 'u-hal' }).execute();
    await any()
      .insertInto('sessions')
      .values({ id: 's-hal', user_id: 'u-hal', created_at: 1, last_seen_at: 1, idle_expires_at: 2, absolute_expires_at: 3, amr: '[]', mfa_skipped: 0 })
      .execute();
    await any().insertInto('api_keys').values(key('k-dash', 'read')).execute();
    const usersSchema = await schemaOf('users');
    await refuses(any().updateTable('users').set({ role: 'helpdesk' }).where('id', '=', 'u-hal').execute());

    await migrateTo(db, '017-helpdesk-role');
    await any().updateTable('users').set({ role: 'helpdesk' }).where('id', '=', 'u-hal').execute();
    await any().insertInto('api_keys').values(key('k-desk', 'helpdesk')).execute();
    await refuses(any().updateTable('users').set({ role: 'boss' }).where('id', '=', 'u-hal').execute());
    await refuses(any().insertInto('api_keys').values(key('k-user', 'user')).execute());
    expect(await any().selectFrom('users').select(['id', 'role']).orderBy('id').execute()).toEqual([
      { id: 'u-ada', role: 'admin' },
      { id: 'u-hal', role: 'helpdesk' },
    ]);
    // Nothing that references users went with the old table.
    expect(await any().selectFrom('group_members').selectAll().execute()).toEqual([{ group_id: 'g-desk', user_id: 'u-hal' }]);
    expect(await any().selectFrom('sessions').select('id').execute()).toEqual([{ id: 's-hal' }]);
    expect(await schemaOf('users')).toEqual(usersSchema);
    // The foreign keys and the search index's triggers work on the new table.
    await expect(any().insertInto('group_members').values({ group_id: 'g-desk', user_id: 'u-nobody' }).execute()).rejects.toThrow(/foreign key/i);
    await any().insertInto('users').values(user('u-halvard', 'halvard', 'helpdesk')).execute();
    // Read the search index itself, not through listUsers(): today's code reads tables later
    // migrations add. On PostgreSQL the index is on an expression of `users` (no triggers).
    if (dialect === 'sqlite') {
      const found = await sql<{ user_id: string }>`select k.user_id from users_search s join user_search_keys k on k.key = s.rowid where users_search match ${'"halv"'}`.execute(any());
      expect(found.rows.map((r) => r.user_id)).toEqual(['u-halvard']);
    }
    await any().deleteFrom('users').where('id', '=', 'u-hal').execute();
    expect(await any().selectFrom('group_members').selectAll().execute()).toEqual([]);

    await migrateTo(db, '015-sign-in-and-key-expiry');
    expect(await any().selectFrom('users').select(['id', 'role']).orderBy('id').execute()).toEqual([
      { id: 'u-ada', role: 'admin' },
      { id: 'u-halvard', role: 'user' },
    ]);
    expect(await any().selectFrom('api_keys').select(['id', 'role']).orderBy('id').execute()).toEqual([
      { id: 'k-dash', role: 'read' },
      { id: 'k-desk', role: 'read' },
    ]);
    await refuses(any().updateTable('users').set({ role: 'helpdesk' }).where('id', '=', 'u-ada').execute());
    expect(await schemaOf('users')).toEqual(usersSchema);
  });
});

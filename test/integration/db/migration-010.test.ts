import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../../../db';
import { dialects } from '../support/dialects';
import { closeMigrationDatabases, databaseMigratedTo, migrateTo } from '../support/migration';

/**
 * 010-guess-sources on a database that already holds data: the per-user `mfa_throttle` gives
 * way to per-source budgets, and the outbox keeps every row and index while its kind check
 * learns `second_factor_failures` (SQLite rebuilds the table for that). Down undoes it.
 */
describe.each(dialects)('migration 010-guess-sources on %s', (dialect) => {
  let db: Db;
  afterEach(closeMigrationDatabases);

  const any = () => db.kysely as unknown as Kysely<any>;
  const outboxRow = (id: string, kind: string) => ({
    id,
    user_id: 'u-ada',
    kind,
    idempotency_key: `${kind}:${id}`,
    to_address: 'ada@example.com',
    params: '{"name":"Ada"}',
    subject: 'Hello',
    status: 'pending',
    attempts: 0,
    next_attempt_at: 1,
    created_at: 1,
    updated_at: 1,
  });
  const tables = async () => {
    const rows =
      dialect === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db.kysely)).rows
        : (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db.kysely)).rows;
    return rows.map((r) => r.name);
  };
  const outboxIndexes = async () => {
    const rows =
      dialect === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'mail_outbox' and sql is not null`.execute(db.kysely)).rows
        : (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'mail_outbox' and indexname not like '%pkey' and indexname not like '%key'`.execute(db.kysely)).rows;
    return rows.map((r) => r.name).sort();
  };

  it('keeps the outbox’s rows and indexes, admits the new kind, replaces mfa_throttle; down restores the old shape', async () => {
    db = await databaseMigratedTo(dialect, '009-search-key-order');
    await any().insertInto('users').values({ id: 'u-ada', username: 'ada', username_lower: 'ada', email: 'ada@example.com', state: 'active', role: 'user', created_at: 1 }).execute();
    await any().insertInto('mail_outbox').values(outboxRow('m1', 'factor_added')).execute();
    await any().insertInto('mfa_throttle').values({ user_id: 'u-ada', failures: 50, guesses: 5, last_attempt_at: 1, blocked_until: 2, admitted: 0 }).execute();
    const indexesBefore = await outboxIndexes();
    await expect(any().insertInto('mail_outbox').values(outboxRow('m0', 'second_factor_failures')).execute()).rejects.toThrow();

    await migrateTo(db, '010-guess-sources');
    expect(await any().selectFrom('mail_outbox').select(['id', 'kind', 'user_id']).execute()).toEqual([{ id: 'm1', kind: 'factor_added', user_id: 'u-ada' }]);
    expect(await outboxIndexes()).toEqual(indexesBefore);
    await any().insertInto('mail_outbox').values(outboxRow('m2', 'second_factor_failures')).execute();
    await expect(any().insertInto('mail_outbox').values(outboxRow('m3', 'no_such_kind')).execute()).rejects.toThrow();
    const after = await tables();
    expect(after).toEqual(expect.arrayContaining(['mfa_guess_accounts', 'mfa_guess_sources', 'mfa_guess_failures', 'sign_in_address_failures', 'mail_outbox']));
    expect(after).not.toContain('mfa_throttle');
    expect(after).not.toContain('mail_outbox_rebuilt');
    // The outbox still belongs to its user: deleting the user keeps the row, without its user.
    await any().deleteFrom('users').where('id', '=', 'u-ada').execute();
    expect(await any().selectFrom('mail_outbox').select('user_id').where('id', '=', 'm1').executeTakeFirst()).toEqual({ user_id: null });
    await any().insertInto('users').values({ id: 'u-ada', username: 'ada', username_lower: 'ada', email: 'ada@example.com', state: 'active', role: 'user', created_at: 1 }).execute();
    await any().insertInto('mfa_guess_sources').values({ user_id: 'u-ada', kind: 'totp', source: 'ip:203.0.113.66', failures: 1, last_failure_at: 1, epoch: 0 }).execute();
    await expect(
      any().insertInto('mfa_guess_sources').values({ user_id: 'u-ada', kind: 'webauthn', source: 'ip:203.0.113.66', failures: 1, last_failure_at: 1, epoch: 0 }).execute(),
    ).rejects.toThrow();

    await migrateTo(db, '009-search-key-order');
    expect(await tables()).toContain('mfa_throttle');
    expect(await tables()).not.toContain('mfa_guess_sources');
    expect(await any().selectFrom('mail_outbox').select('id').execute()).toEqual([{ id: 'm1' }]);
    expect(await outboxIndexes()).toEqual(indexesBefore);
    await expect(any().insertInto('mail_outbox').values(outboxRow('m4', 'second_factor_failures')).execute()).rejects.toThrow();
  });
});

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

const oldKinds = `'enrollment_started','enrollment_reminder','enrollment_expired','factor_added','factor_removed','recovery_code_used'`;
const newKinds = `${oldKinds},'second_factor_failures'`;

/**
 * Second-factor guess budgets per SOURCE (R-I2, lib/auth/mfa-budget.ts), replacing 003's
 * per-user `mfa_throttle`, whose one row per user let a password holder lock the user out.
 *
 * - `mfa_guess_accounts`: one row per user, the lock every charge takes first (so parallel
 *   guesses are charged one at a time on both dialects), the unlock `epoch`, and when the
 *   "someone is trying codes" mail was last queued.
 * - `mfa_guess_sources`: failures per (user, kind, source), a source being a pending sign-in
 *   (`session:<id>`) or a client address (`ip:<address>`), with the epoch they were charged under.
 * - `mfa_guess_failures`: one row per charged failure, for the per-account rolling-day cap.
 * - `sign_in_address_failures`: the distinct accounts that failed a password sign-in from an
 *   address, so one office behind a NAT address is not shut out by one person's typos.
 * - `mail_outbox.kind` admits `second_factor_failures`. SQLite cannot alter a check, so the
 *   table is rebuilt from its own stored definition with the one list changed.
 */
export function guessSources(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('mfa_guess_accounts')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('epoch', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('notified_at', t.time)
        .execute();
      await db.schema
        .createTable('mfa_guess_sources')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('totp','recovery')`))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure_at', t.time, (c) => c.notNull())
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('mfa_guess_sources_pkey', ['user_id', 'kind', 'source'])
        .execute();
      await db.schema
        .createTable('mfa_guess_failures')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('totp','recovery')`))
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('epoch', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mfa_guess_failures_user_idx').on('mfa_guess_failures').columns(['user_id', 'epoch', 'kind', 'at']).execute();
      await db.schema
        .createTable('sign_in_address_failures')
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('account', 'text', (c) => c.notNull())
        .addColumn('last_failed_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('sign_in_address_failures_pkey', ['address', 'account'])
        .execute();
      await db.schema.createIndex('sign_in_address_failures_recent_idx').on('sign_in_address_failures').columns(['address', 'last_failed_at']).execute();
      await db.schema.dropTable('mfa_throttle').execute();
      await setMailKinds(db, dialect, oldKinds, newKinds);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.deleteFrom('mail_outbox').where('kind', '=', 'second_factor_failures').execute();
      await setMailKinds(db, dialect, newKinds, oldKinds);
      await db.schema
        .createTable('mfa_throttle')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('guesses', 'integer', (c) => c.notNull())
        .addColumn('last_attempt_at', t.time, (c) => c.notNull())
        .addColumn('blocked_until', t.time, (c) => c.notNull())
        .addColumn('admitted', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.dropTable('sign_in_address_failures').execute();
      await db.schema.dropTable('mfa_guess_failures').execute();
      await db.schema.dropTable('mfa_guess_sources').execute();
      await db.schema.dropTable('mfa_guess_accounts').execute();
    },
  };
}

export async function setMailKinds(db: Kysely<any>, dialect: DialectName, from: string, to: string): Promise<void> {
  if (dialect === 'postgres') {
    await sql`alter table mail_outbox drop constraint mail_outbox_kind_check`.execute(db);
    await sql`alter table mail_outbox add constraint mail_outbox_kind_check check (kind in (${sql.raw(to)}))`.execute(db);
    return;
  }
  const { rows } = await sql<{ type: string; name: string; sql: string }>`select type, name, sql from sqlite_master
    where tbl_name = 'mail_outbox' and sql is not null order by type = 'table' desc`.execute(db);
  const table = rows.find((r) => r.type === 'table');
  if (!table || !table.sql.includes(`in (${from})`)) throw new Error('mail_outbox: the kind check is not the expected one');
  const rebuilt = table.sql.replace(`in (${from})`, `in (${to})`).replace(/^CREATE TABLE\s+"?mail_outbox"?/i, 'create table "mail_outbox_rebuilt"');
  await sql.raw(rebuilt).execute(db);
  await sql`insert into mail_outbox_rebuilt select * from mail_outbox`.execute(db);
  await sql`drop table mail_outbox`.execute(db);
  await sql`alter table mail_outbox_rebuilt rename to mail_outbox`.execute(db);
  for (const other of rows.filter((r) => r.type !== 'table')) await sql.raw(other.sql).execute(db);
}

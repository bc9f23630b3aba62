import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';

/**
 * Issue 18 part 7: the `helpdesk` role, for people (`users.role`) and API keys
 * (`api_keys.role`); what it may do is lib/admin/permissions.ts.
 *
 * Both columns have a check (001). PostgreSQL replaces it. SQLite cannot alter a check and
 * refuses writes to sqlite_master (better-sqlite3 runs in defensive mode), so each table is
 * rebuilt from its own stored definition with the one list changed (SQLite's documented
 * twelve steps): foreign keys off for the swap, or dropping `users` would cascade into every
 * table that references it; rows copied in their order; its indexes and triggers (the search index's)
 * recreated; then a foreign key check before the keys are turned back on. Kysely runs SQLite
 * migrations outside a transaction on its one connection, so the pragma takes effect; the
 * swap itself is one transaction.
 */

const userRoles = { from: `'user','admin'`, to: `'user','helpdesk','admin'` };
const keyRoles = { from: `'admin','read'`, to: `'admin','read','helpdesk'` };

export function helpdeskRole(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await setRoleCheck(db, dialect, 'users', userRoles.from, userRoles.to);
      await setRoleCheck(db, dialect, 'api_keys', keyRoles.from, keyRoles.to);
    },
    async down(db: Kysely<any>): Promise<void> {
      // Least privilege on the way back: helpdesk people become users, helpdesk keys read keys.
      await db.updateTable('users').set({ role: 'user' }).where('role', '=', 'helpdesk').execute();
      await db.updateTable('api_keys').set({ role: 'read' }).where('role', '=', 'helpdesk').execute();
      await setRoleCheck(db, dialect, 'api_keys', keyRoles.to, keyRoles.from);
      await setRoleCheck(db, dialect, 'users', userRoles.to, userRoles.from);
    },
  };
}

async function setRoleCheck(db: Kysely<any>, dialect: DialectName, table: 'users' | 'api_keys', from: string, to: string): Promise<void> {
  if (dialect === 'postgres') {
    // 001 declared the check on the column: PostgreSQL named it <table>_role_check.
    await sql`alter table ${sql.table(table)} drop constraint ${sql.raw(`${table}_role_check`)}`.execute(db);
    await sql`alter table ${sql.table(table)} add constraint ${sql.raw(`${table}_role_check`)} check (role in (${sql.raw(to)}))`.execute(db);
    return;
  }
  const { rows } = await sql<{ type: string; name: string; sql: string }>`select type, name, sql from sqlite_master
    where tbl_name = ${table} and sql is not null order by type = 'table' desc`.execute(db);
  const definition = rows.find((r) => r.type === 'table');
  const check = `role in (${from})`;
  if (!definition || !definition.sql.includes(check)) throw new Error(`${table}: the role check is not the expected one`);
  const rebuilt = `${table}_rebuilt`;
  const created = definition.sql
    .replace(check, `role in (${to})`)
    .replace(new RegExp(`^CREATE TABLE\\s+"?${table}"?`, 'i'), `create table "${rebuilt}"`);
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      await sql.raw(created).execute(trx);
      await sql`insert into ${sql.table(rebuilt)} select * from ${sql.table(table)} order by rowid`.execute(trx);
      // Dropping the table drops its indexes and triggers; its rows are gone, not deleted (no triggers fire).
      await sql`drop table ${sql.table(table)}`.execute(trx);
      await sql`alter table ${sql.table(rebuilt)} rename to ${sql.table(table)}`.execute(trx);
      for (const other of rows.filter((r) => r.type !== 'table')) await sql.raw(other.sql).execute(trx);
      const broken = await sql`pragma foreign_key_check`.execute(trx);
      if (broken.rows.length > 0) throw new Error(`${table}: foreign keys broken by the rebuild`);
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

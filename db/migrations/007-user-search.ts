import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { log } from '../../lib/log';

/**
 * Indexes for the admin users list at a million users (bench/admin.ts):
 *
 * - Search (`q`, contains, case-insensitive, over username, email and display name) by
 *   trigrams, so a rare term finds its users without reading the whole table:
 *   - SQLite: an FTS5 `trigram` index over the three fields, contentless (the text stays in
 *     `users` only) and kept in sync by triggers on `users`, so every write path (the admin
 *     services, the CLI, a hand-run UPDATE) updates it in its own transaction. Its rowids
 *     come from `user_search_keys` (an INTEGER PRIMARY KEY, stable across VACUUM, unlike the
 *     implicit rowid of `users`, whose primary key is text). No foreign key on it: the delete
 *     trigger must still find a user's key after the user row is gone, so the trigger, not a
 *     cascade, removes it.
 *   - PostgreSQL: a pg_trgm GIN index on the three fields joined by newlines
 *     (db/queries/user-directory.ts searchDocument() is the same expression). pg_trgm ships
 *     with PostgreSQL's contrib package; where it cannot be installed the migration goes on
 *     without the index and says so: search stays exact, it just scans the table again.
 *   Either index only narrows the candidates: the query re-checks the exact contains-match
 *   on each candidate row, so results are exactly what the LIKE predicates alone return.
 * - `users_list_walk_idx`: the username order with the state and the searched fields, so a
 *   walk of that order (a common search term, a state or status filter) checks its users on
 *   the index alone and reads only the rows of the page it returns. It replaces 006's
 *   `users_list_username_idx` (its first two columns), which SQLite would otherwise pick and
 *   then read every passed user's row.
 * - `mfa_requirements_list_idx`: the requirement columns the list reads, so the per-user
 *   lookup while walking the username order is one index probe.
 */

/** Joins the searchable fields; a newline never occurs in a search term, so no match spans two fields. */
export const pgSearchDocumentSql = `(username_lower || chr(10) || coalesce(lower(email), '') || chr(10) || coalesce(lower(display_name), ''))`;

/** SQLite: 007's insert and update triggers; 009-search-key-order.ts replaces them and puts them back on rollback. */
export const userSearchTriggers = {
  insert: `create trigger users_search_insert after insert on users begin
          insert into user_search_keys (user_id) values (new.id);
          insert into users_search (rowid, username_lower, email, display_name)
            values ((select key from user_search_keys where user_id = new.id), new.username_lower, new.email, new.display_name);
        end`,
  update: `create trigger users_search_update after update of username_lower, email, display_name on users begin
          delete from users_search where rowid = (select key from user_search_keys where user_id = old.id);
          insert into users_search (rowid, username_lower, email, display_name)
            values ((select key from user_search_keys where user_id = new.id), new.username_lower, new.email, new.display_name);
        end`,
} as const;

export function userSearch(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createIndex('mfa_requirements_list_idx')
        .on('mfa_requirements')
        .columns(['user_id', 'required', 'period_ends_at', 'period_starts_at', 'enrollment_days'])
        .execute();
      await db.schema.dropIndex('users_list_username_idx').execute();
      if (dialect === 'sqlite') {
        await db.schema.createIndex('users_list_walk_idx').on('users').columns(['username_lower', 'id', 'state', 'email', 'display_name']).execute();
      } else {
        await sql`create index users_list_walk_idx on users (username_lower, id) include (state, email, display_name)`.execute(db);
      }

      if (dialect === 'sqlite') {
        await sql`create table user_search_keys (
          key integer primary key,
          user_id text not null unique
        )`.execute(db);
        await sql`create virtual table users_search using fts5(
          username_lower, email, display_name,
          content = '', contentless_delete = 1, tokenize = 'trigram'
        )`.execute(db);
        // The triggers run inside the statement that changed `users`, so the index commits or
        // rolls back with it.
        await sql.raw(userSearchTriggers.insert).execute(db);
        await sql.raw(userSearchTriggers.update).execute(db);
        await sql`create trigger users_search_delete after delete on users begin
          delete from users_search where rowid = (select key from user_search_keys where user_id = old.id);
          delete from user_search_keys where user_id = old.id;
        end`.execute(db);
        // Users that exist already.
        await sql`insert into user_search_keys (user_id) select id from users`.execute(db);
        await sql`insert into users_search (rowid, username_lower, email, display_name)
          select k.key, u.username_lower, u.email, u.display_name from user_search_keys k join users u on u.id = k.user_id`.execute(db);
        return;
      }

      // PostgreSQL: a savepoint, so that a missing extension does not abort the migration's transaction.
      await sql`savepoint user_search_trgm`.execute(db);
      try {
        await sql`create extension if not exists pg_trgm`.execute(db);
        await sql`release savepoint user_search_trgm`.execute(db);
      } catch (error) {
        await sql`rollback to savepoint user_search_trgm`.execute(db);
        log.warn(
          `migration 007-user-search: the pg_trgm extension is not available (${(error as Error).message}); ` +
            'user search stays exact but scans the users table. To index it, install PostgreSQL contrib, then run: ' +
            `CREATE EXTENSION pg_trgm; CREATE INDEX users_search_trgm_idx ON users USING gin (${pgSearchDocumentSql} gin_trgm_ops);`,
        );
        return;
      }
      await sql.raw(`create index users_search_trgm_idx on users using gin (${pgSearchDocumentSql} gin_trgm_ops)`).execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('mfa_requirements_list_idx').execute();
      await db.schema.dropIndex('users_list_walk_idx').execute();
      await db.schema.createIndex('users_list_username_idx').on('users').columns(['username_lower', 'id']).execute();
      if (dialect === 'sqlite') {
        for (const t of ['users_search_insert', 'users_search_update', 'users_search_delete']) await sql.raw(`drop trigger if exists ${t}`).execute(db);
        await sql`drop table if exists users_search`.execute(db);
        await sql`drop table if exists user_search_keys`.execute(db);
        return;
      }
      await sql`drop index if exists users_search_trgm_idx`.execute(db);
    },
  };
}

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { userSearchTriggers } from './007-user-search';

/**
 * SQLite: `user_search_keys` (007) also carries each user's `username_lower`, kept by the same
 * triggers. A search term with thousands of matches whose page lies past the first walk (a
 * first name: one block of the username order) can then pick its next page's candidates in
 * username order from the index's keys alone, and read only those users' rows: a page of
 * "kathleen" (8,775 candidates) takes 17–19 ms that way instead of 58 ms through all their
 * rows (bench/admin.ts, db/queries/user-directory.ts rankedPage()). PostgreSQL: nothing (pg_trgm has no keys
 * table).
 */
export function searchKeyOrder(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'sqlite') return;
      await sql`alter table user_search_keys add column username_lower text`.execute(db);
      await sql`update user_search_keys set username_lower = (select u.username_lower from users u where u.id = user_search_keys.user_id)`.execute(db);
      await sql`drop trigger users_search_insert`.execute(db);
      await sql`drop trigger users_search_update`.execute(db);
      await sql`create trigger users_search_insert after insert on users begin
          insert into user_search_keys (user_id, username_lower) values (new.id, new.username_lower);
          insert into users_search (rowid, username_lower, email, display_name)
            values ((select key from user_search_keys where user_id = new.id), new.username_lower, new.email, new.display_name);
        end`.execute(db);
      await sql`create trigger users_search_update after update of username_lower, email, display_name on users begin
          update user_search_keys set username_lower = new.username_lower where user_id = new.id;
          delete from users_search where rowid = (select key from user_search_keys where user_id = old.id);
          insert into users_search (rowid, username_lower, email, display_name)
            values ((select key from user_search_keys where user_id = new.id), new.username_lower, new.email, new.display_name);
        end`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect !== 'sqlite') return;
      await sql`drop trigger users_search_insert`.execute(db);
      await sql`drop trigger users_search_update`.execute(db);
      await sql.raw(userSearchTriggers.insert).execute(db);
      await sql.raw(userSearchTriggers.update).execute(db);
      await sql`alter table user_search_keys drop column username_lower`.execute(db);
    },
  };
}

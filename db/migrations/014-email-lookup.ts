import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';

/**
 * "Forgot password?" finds accounts by email address, case-insensitively
 * (db/queries/password-reset.ts resetCandidates): an index on lower(email), the same
 * expression on both dialects, so the lookup never scans the users table.
 */
export function emailLookup(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await sql`create index users_email_lower_idx on users (lower(email))`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await sql`drop index users_email_lower_idx`.execute(db);
    },
  };
}

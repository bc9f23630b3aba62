import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';

/**
 * R-D11 and the denial audit (R-D2).
 *
 * - `mfa_settings.challenge_enrolled`: a user who has a factor is challenged for it at
 *   sign-in even when nothing requires MFA. On (1) by default, for existing rows too.
 * - `audit_log.dedupe_key`: entries that must be written once per fact (a denial: once per
 *   session and resource) carry a key; the unique index lets every instance insert-or-ignore
 *   it. Null for ordinary entries, which the index does not constrain (both dialects treat
 *   nulls as distinct); partial, so it holds only the keyed rows.
 *
 * NOTE: touches only tables from 001 and 002, so it runs after any 010 without needing it.
 */
export function ownFactorChallenge(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('mfa_settings')
        .addColumn('challenge_enrolled', 'integer', (c) => c.notNull().defaultTo(1).check(sql`challenge_enrolled in (0, 1)`))
        .execute();
      await db.schema.alterTable('audit_log').addColumn('dedupe_key', 'text').execute();
      await sql`create unique index audit_log_dedupe_key_idx on audit_log (dedupe_key) where dedupe_key is not null`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('audit_log_dedupe_key_idx').execute();
      await db.schema.alterTable('audit_log').dropColumn('dedupe_key').execute();
      await db.schema.alterTable('mfa_settings').dropColumn('challenge_enrolled').execute();
    },
  };
}

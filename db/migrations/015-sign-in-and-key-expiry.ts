import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/**
 * Issue 16, the console:
 *
 * - `api_keys.expires_at`: an expiry the admin may give a key (null: none). The key check
 *   refuses a key from that instant on (db/queries/api-keys.ts getActiveApiKeyByHash).
 * - `audit_log_sign_in_idx`: each user's last sign-in for the users list, read from the
 *   `auth.signed_in` entries (sessions are deleted on sign-out and expiry; the audit log is
 *   kept). Partial, so only sign-ins are indexed: the page's correlated max() is one seek
 *   per user, whatever else the log holds about them.
 * - `audit_log_at_idx`: the audit page's date range. Without it, a range far in the past is
 *   found by walking the whole log back from its newest entry.
 */
export function signInAndKeyExpiry(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('api_keys').addColumn('expires_at', t.time).execute();
      await sql`create index audit_log_sign_in_idx on audit_log (target_id, at) where action = 'auth.signed_in'`.execute(db);
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('audit_log_at_idx').execute();
      await sql`drop index audit_log_sign_in_idx`.execute(db);
      await db.schema.alterTable('api_keys').dropColumn('expires_at').execute();
    },
  };
}

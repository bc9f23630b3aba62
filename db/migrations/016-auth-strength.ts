import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';

/**
 * Issue 18, authentication strength and re-verification:
 *
 * - `policies.strength`: what a require-MFA policy accepts as a second factor, 'any' (every
 *   policy so far) or 'phishing_resistant' (WebAuthn only).
 * - `policies.reverify_minutes`: "second factor within the last N minutes", 5 … 43200 (30
 *   days), or null for no limit.
 * - `mfa_settings.admin_reverify_minutes`: how old an admin's last second factor may be
 *   before the console sends them to verify again; 720 (12 hours) by default.
 *
 * NOTE: touches only tables from 002, so it runs after any 015 without needing it.
 */
export function authStrength(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('policies')
        .addColumn('strength', 'text', (c) => c.notNull().defaultTo('any').check(sql`strength in ('any', 'phishing_resistant')`))
        .execute();
      await db.schema
        .alterTable('policies')
        .addColumn('reverify_minutes', 'integer', (c) => c.check(sql`reverify_minutes between 5 and 43200`))
        .execute();
      await db.schema
        .alterTable('mfa_settings')
        .addColumn('admin_reverify_minutes', 'integer', (c) =>
          c.notNull().defaultTo(720).check(sql`admin_reverify_minutes between 5 and 43200`),
        )
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('mfa_settings').dropColumn('admin_reverify_minutes').execute();
      await db.schema.alterTable('policies').dropColumn('reverify_minutes').execute();
      await db.schema.alterTable('policies').dropColumn('strength').execute();
    },
  };
}

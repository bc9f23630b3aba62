import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/**
 * Issue 18 part 6, grace days when someone enters a policy's scope:
 *
 * - `policies.grace_days`: a require-MFA policy gives people who NEWLY fall under it this
 *   many days before it forces enrollment; 0 (every policy so far) forces at once. At most
 *   365, the same bound as an individual enrollment period (R-B2): a longer grace would be
 *   a policy that does not force anything.
 * - `policy_grace`: one window per (policy, user), written in the transaction of the change
 *   that brought the user into scope (lib/admin/grace-windows.ts). The primary key leads
 *   with the user: the gate's access facts read a user's windows by one index seek, and
 *   the users list probes them the same way. A second index by end time serves the
 *   reminder scheduler and the status filters, which look for windows ending soon.
 *
 * Rows go with their policy or user (cascade): a window of a deleted policy means nothing.
 */
export function policyGrace(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('policies')
        .addColumn('grace_days', 'integer', (c) => c.notNull().defaultTo(0).check(sql`grace_days between 0 and 365`))
        .execute();
      await db.schema
        .createTable('policy_grace')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('policy_id', 'text', (c) => c.notNull().references('policies.id').onDelete('cascade'))
        .addColumn('starts_at', t.time, (c) => c.notNull())
        .addColumn('ends_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_grace_pkey', ['user_id', 'policy_id'])
        .addCheckConstraint('policy_grace_order', sql`ends_at > starts_at`)
        .execute();
      await db.schema.createIndex('policy_grace_ends_idx').on('policy_grace').columns(['ends_at', 'user_id']).execute();
      // The policy's cascade and "whose window is this" lookups by policy.
      await db.schema.createIndex('policy_grace_policy_idx').on('policy_grace').columns(['policy_id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('policy_grace').execute();
      await db.schema.alterTable('policies').dropColumn('grace_days').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/**
 * Issue 18 part 3, remembered devices ("don't ask again on this device for N days"):
 *
 * - `policies.remember_days`: a require-MFA policy's N, 1 … 90, or null (not allowed).
 * - `remembered_devices`: one row per device a person ticked the box on. The cookie's token
 *   is never stored, only its sha256 (`token_hash`, unique: the gate looks a device up by
 *   it). `browser` and `os` are the families it was made on (lib/policy/user-agent.ts),
 *   for the person's list. `expires_at` is created_at + the N of the policy it was made
 *   under; decide() still compares created_at with the N of the policy that applies now, so
 *   shortening N takes effect at once. `forgotten_at` marks a device forgotten (by the
 *   person, an admin, or a password or factor change); rows stay for the audit trail.
 *
 * NOTE: touches only tables from 001/002, so it runs after 016 and 017 without needing them.
 */
export function rememberedDevices(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('policies')
        .addColumn('remember_days', 'integer', (c) => c.check(sql`remember_days between 1 and 90`))
        .execute();
      await db.schema
        .createTable('remembered_devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('browser', 'text', (c) => c.notNull())
        .addColumn('os', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('last_seen_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('forgotten_at', t.time)
        .execute();
      // The person's list and "forget all" read by user; the gate reads by token_hash (unique above).
      await db.schema.createIndex('remembered_devices_user_idx').on('remembered_devices').columns(['user_id', 'created_at']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('remembered_devices').execute();
      await db.schema.alterTable('policies').dropColumn('remember_days').execute();
    },
  };
}

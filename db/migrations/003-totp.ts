import type { Kysely } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/** Recovery codes (stored hashed) and the per-user second-factor guess counter. */
export function totp(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('recovery_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .execute();
      await db.schema
        .createIndex('recovery_codes_user_hash_idx')
        .on('recovery_codes')
        .columns(['user_id', 'code_hash'])
        .unique()
        .execute();

      // One row per user, whatever session or address the guesses come from (R-I2).
      await db.schema
        .createTable('mfa_throttle')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('guesses', 'integer', (c) => c.notNull())
        .addColumn('last_attempt_at', t.time, (c) => c.notNull())
        .addColumn('blocked_until', t.time, (c) => c.notNull())
        .addColumn('admitted', 'integer', (c) => c.notNull())
        .execute();
    },
  };
}

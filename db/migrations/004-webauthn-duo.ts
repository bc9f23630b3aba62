import type { Kysely } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/**
 * Single-use values of the WebAuthn and Duo ceremonies (challenges, Duo `state`). The
 * values themselves travel in sealed cookies; this table remembers the ones already spent,
 * so a captured cookie cannot be replayed on this or any other app instance. Rows are
 * only needed until the value expires.
 *
 * WebAuthn credentials use the factors columns that 002 reserved (credential_id,
 * public_key, sign_count, transports).
 */
export function webauthnDuo(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('spent_nonces')
        .addColumn('nonce_hash', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('spent_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('spent_nonces_expires_idx').on('spent_nonces').column('expires_at').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { setMailKinds } from './010-guess-sources';
import { columnTypes } from './types';

const oldKinds = `'enrollment_started','enrollment_reminder','enrollment_expired','factor_added','factor_removed','recovery_code_used','second_factor_failures'`;
const newKinds = `${oldKinds},'invitation','password_reset','password_changed'`;

/**
 * Links that let a person set their own password (lib/auth/account-tokens.ts): invitations
 * and password resets (issue 15).
 *
 * - `account_tokens`: one row per link. The link's token is never stored, only its sha256
 *   (`token_hash`, unique). `expires_at` is null for an invitation to a staged user, which
 *   is not sent (and not valid) until the user is activated. `used_at` makes a link
 *   single-use; `voided_at` marks one replaced by a newer link or made moot.
 * - `mail_outbox.kind` admits the invitation, the reset link and the password notice.
 */
export function accountTokens(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('account_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('invitation','password_reset')`))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', t.time)
        .addColumn('used_at', t.time)
        .addColumn('voided_at', t.time)
        .execute();
      await db.schema.createIndex('account_tokens_user_idx').on('account_tokens').columns(['user_id', 'purpose']).execute();
      await setMailKinds(db, dialect, oldKinds, newKinds);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.deleteFrom('mail_outbox').where('kind', 'in', ['invitation', 'password_reset', 'password_changed']).execute();
      await setMailKinds(db, dialect, newKinds, oldKinds);
      await db.schema.dropTable('account_tokens').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import type { DialectName } from '../url';

/**
 * Indexes for the admin users list and audit log (lib/admin/user-directory.ts,
 * lib/admin/audit-log.ts). Every list is keyset-paginated, so each sort order has an index
 * that ends in the tie-breaker column the cursor carries.
 */
export function admin(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // Sort "username": (username_lower, id). username_lower is unique already, but the
      // planner only skips the sort when the index covers the whole ORDER BY.
      await db.schema.createIndex('users_list_username_idx').on('users').columns(['username_lower', 'id']).execute();
      // The state filter walks its own slice of the username order.
      await db.schema
        .createIndex('users_list_state_idx')
        .on('users')
        .columns(['state', 'username_lower', 'id'])
        .execute();
      // Sort "newest": (created_at desc, id desc), read backwards from this index.
      await db.schema.createIndex('users_list_created_idx').on('users').columns(['created_at', 'id']).execute();
      // Audit filter by actor label ("api-key:deploy", "ada.admin", "cli").
      await db.schema.createIndex('audit_log_actor_label_idx').on('audit_log').columns(['actor_label', 'id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const name of ['users_list_username_idx', 'users_list_state_idx', 'users_list_created_idx', 'audit_log_actor_label_idx']) {
        await db.schema.dropIndex(name).execute();
      }
    },
  };
}

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

export function foundation(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('username_lower', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text')
        .addColumn('display_name', 'text')
        .addColumn('password_hash', 'text')
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('staged','active','suspended')`))
        .addColumn('role', 'text', (c) => c.notNull().defaultTo('user').check(sql`role in ('user','admin')`))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('activated_at', t.time)
        .execute();
      await db.schema.createIndex('users_email_idx').on('users').column('email').execute();

      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('group_members_user_idx').on('group_members').column('user_id').execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('last_seen_at', t.time, (c) => c.notNull())
        .addColumn('idle_expires_at', t.time, (c) => c.notNull())
        .addColumn('absolute_expires_at', t.time, (c) => c.notNull())
        .addColumn('aal', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('amr', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('mfa_skipped', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('second_factor_at', t.time)
        .addColumn('client_ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('id', t.serial, (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_label', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('details', 'text')
        .addColumn('client_ip', 'text')
        .execute();
      await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'id']).execute();
      await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_id', 'id']).execute();
      await db.schema.createIndex('audit_log_target_idx').on('audit_log').columns(['target_id', 'id']).execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().defaultTo('admin').check(sql`role in ('admin','read')`))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('last_used_at', t.time)
        .addColumn('revoked_at', t.time)
        .execute();

      await db.schema
        .createTable('auth_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('window_started_at', t.time, (c) => c.notNull())
        .addColumn('blocked_until', t.time, (c) => c.notNull())
        .execute();
    },
  };
}

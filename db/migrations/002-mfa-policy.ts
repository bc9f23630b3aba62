import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/** Per-user requirements, conditional access policies, org MFA settings and factors. */
export function mfaPolicy(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('mfa_requirements')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('required', 'integer', (c) => c.notNull())
        .addColumn('enrollment_days', 'integer', (c) => c.notNull().check(sql`enrollment_days between 1 and 365`))
        .addColumn('period_starts_at', t.time)
        .addColumn('period_ends_at', t.time)
        .addColumn('set_by', 'text')
        .addColumn('set_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mfa_requirements_required_idx')
        .on('mfa_requirements')
        .columns(['required', 'period_ends_at'])
        .execute();

      await db.schema
        .createTable('policies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('all','groups')`))
        .addColumn('include_group_ids', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('exclude_group_ids', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('conditions', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('resources', 'text', (c) => c.notNull().defaultTo('["portal"]'))
        .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('allow','require_mfa','deny')`))
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('mfa_settings')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('totp_enabled', 'integer', (c) => c.notNull())
        .addColumn('webauthn_enabled', 'integer', (c) => c.notNull())
        .addColumn('duo_enabled', 'integer', (c) => c.notNull())
        .addColumn('duo_client_id', 'text')
        .addColumn('duo_client_secret_enc', 'text')
        .addColumn('duo_api_host', 'text')
        .addColumn('duo_redirect_uri', 'text')
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .execute();
      await db
        .insertInto('mfa_settings')
        .values({ id: 1, totp_enabled: 1, webauthn_enabled: 0, duo_enabled: 0, updated_at: 0 })
        .execute();

      // Bumped in the same transaction as any policy or settings change; the gate reads it
      // with the session, so every instance reloads its compiled policies on the next request.
      await db.schema
        .createTable('config_version')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.insertInto('config_version').values({ id: 1, version: 1 }).execute();

      await db.schema
        .createTable('factors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('totp','webauthn','duo')`))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('last_used_at', t.time)
        .addColumn('secret_enc', 'text')
        .addColumn('last_used_step', t.time)
        .addColumn('credential_id', 'text', (c) => c.unique())
        .addColumn('public_key', 'text')
        .addColumn('sign_count', t.time)
        .addColumn('transports', 'text')
        .execute();
      await db.schema.createIndex('factors_user_idx').on('factors').columns(['user_id', 'type']).execute();
    },
  };
}

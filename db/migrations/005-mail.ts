import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';
import { columnTypes } from './types';

/**
 * The mail queue (lib/mail): one row per message, durable from the transaction that caused
 * it until it is sent, skipped, or given up on and resent by an admin.
 */
export function mail(dialect: DialectName) {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('mail_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // NOTE: kept (user_id null) when the user is deleted: the row is the record of what was sent.
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('kind', 'text', (c) =>
          c
            .notNull()
            .check(
              sql`kind in ('enrollment_started','enrollment_reminder','enrollment_expired','factor_added','factor_removed','recovery_code_used')`,
            ),
        )
        // One message per user, kind and enrollment period (or factor event): enqueueing twice is a no-op.
        .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
        .addColumn('to_address', 'text')
        // The facts the message states, frozen when it was queued (JSON); rendered by the worker.
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text_body', 'text')
        .addColumn('html_body', 'text')
        .addColumn('message_id', 'text')
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('pending','sending','sent','failed','dead','skipped')`),
        )
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        // Pending: when it may be tried; sending: when the lease runs out (then any worker may take it).
        .addColumn('next_attempt_at', t.time)
        .addColumn('locked_by', 'text')
        .addColumn('locked_until', t.time)
        .addColumn('last_error', 'text')
        .addColumn('delivered_via', 'text', (c) => c.check(sql`delivered_via in ('smtp','outbox')`))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .addColumn('sent_at', t.time)
        .execute();
      // Claiming: status in (pending, sending) and due, oldest first.
      await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
      // The admin list: newest first, optionally by status (keyset pagination).
      await db.schema.createIndex('mail_outbox_created_idx').on('mail_outbox').columns(['created_at', 'id']).execute();
      await db.schema
        .createIndex('mail_outbox_status_created_idx')
        .on('mail_outbox')
        .columns(['status', 'created_at', 'id'])
        .execute();
      await db.schema.createIndex('mail_outbox_user_idx').on('mail_outbox').column('user_id').execute();
    },
  };
}

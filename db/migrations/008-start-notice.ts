import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectName } from '../url';

/**
 * The "enrollment period started" message (R-B5) as a mark on the requirement row instead
 * of an outbox row written by the change itself.
 *
 * `start_notice` says a period began and its message is not queued yet, and why ('required',
 * 'activated', 'reset'). The change that starts the period sets it in the same statement
 * that writes the period, so a bulk Require MFA for 10,000 users stays one set-based
 * statement plus its audit entries (bench/admin.ts: building and inserting 10,000 outbox
 * rows was a third of its time). The mail worker turns marks into outbox rows and clears
 * them in one transaction (lib/mail/start-notices.ts), so no message is lost between the
 * two, and the outbox's idempotency key keeps two workers from queueing one twice.
 *
 * The partial index holds only the marked rows: the worker's probe for work is one index
 * seek, however many requirements there are. It is keyed by the period's start, not the user:
 * the 10,000 marks of one bulk change share one start and append to one end of the index,
 * where user ids would land on 10,000 random leaf pages.
 *
 * PostgreSQL only: the primary key carries the list columns (INCLUDE) and replaces 007's
 * `mfa_requirements_list_idx`, which held the same keys. One index fewer to update per
 * requirement written: 55 ms of a 10,000-user bulk Require MFA (bench/admin.ts), and the
 * users list still reads the requirement columns from an index alone.
 */
export function startNotice(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('mfa_requirements')
        .addColumn('start_notice', 'text', (c) => c.check(sql`start_notice in ('required', 'activated', 'reset')`))
        .execute();
      await sql`create index mfa_requirements_start_notice_idx on mfa_requirements (period_starts_at) where start_notice is not null`.execute(db);
      if (dialect === 'postgres') {
        await sql`alter table mfa_requirements drop constraint mfa_requirements_pkey,
          add constraint mfa_requirements_pkey primary key (user_id) include (required, period_ends_at, period_starts_at, enrollment_days)`.execute(db);
        await db.schema.dropIndex('mfa_requirements_list_idx').execute();
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') {
        await db.schema
          .createIndex('mfa_requirements_list_idx')
          .on('mfa_requirements')
          .columns(['user_id', 'required', 'period_ends_at', 'period_starts_at', 'enrollment_days'])
          .execute();
        await sql`alter table mfa_requirements drop constraint mfa_requirements_pkey, add constraint mfa_requirements_pkey primary key (user_id)`.execute(db);
      }
      await db.schema.dropIndex('mfa_requirements_start_notice_idx').execute();
      await db.schema.alterTable('mfa_requirements').dropColumn('start_notice').execute();
    },
  };
}

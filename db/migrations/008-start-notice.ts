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
 * seek, however many requirements there are.
 */
export function startNotice(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('mfa_requirements')
        .addColumn('start_notice', 'text', (c) => c.check(sql`start_notice in ('required', 'activated', 'reset')`))
        .execute();
      await sql`create index mfa_requirements_start_notice_idx on mfa_requirements (user_id) where start_notice is not null`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('mfa_requirements_start_notice_idx').execute();
      await db.schema.alterTable('mfa_requirements').dropColumn('start_notice').execute();
    },
  };
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { clearStartNotices, insertOutboxRows, markedStartNotices, type StartNotice } from '../../db/queries/mail';
import type { Clock } from '../clock';
import { loadCountingFactorTypes } from '../factors/counting';
import { displayName, idempotencyKeys, outboxRow, skipReasons } from './enqueue';
import { renderSubject, type MailMessage } from './templates';

/**
 * R-B5, R-B4, R-F4: the "your enrollment period began" message. The change that starts a
 * period only marks its requirement row (db/migrations/008-start-notice.ts), so requiring
 * MFA for 10,000 users writes no outbox rows; the mail worker calls this every round (2 s)
 * and turns the marks into messages.
 *
 * Nothing is lost: the mark commits with the change, and is cleared in the transaction that
 * queues the message. Nothing is queued twice: two workers that read the same marks insert
 * the same idempotency key, and the second insert is a no-op.
 */

const batchSize = 500;
/** Marks handled per call at most; the rest wait for the next round, so one call stays short. */
const maxPerCall = 20 * batchSize;

export interface StartNoticeReport {
  queued: number;
  /** Recorded as skipped: no address, not active, or already enrolled (R-B6). */
  skipped: number;
}

export async function queueEnrollmentStartedMessages(db: Kysely<Database>, clock: Clock): Promise<StartNoticeReport> {
  const report: StartNoticeReport = { queued: 0, skipped: 0 };
  // Duo only (null): every user counts as enrolled, so each message is recorded as skipped.
  const counting = await loadCountingFactorTypes(db);
  for (let handled = 0; handled < maxPerCall; handled += batchSize) {
    const notices = await markedStartNotices(db, counting, batchSize);
    if (notices.length === 0) break;
    const now = clock.now();
    const rows = notices.map((n) => startedMessageRow(n, now));
    await db.transaction().execute(async (trx) => {
      await insertOutboxRows(trx, rows);
      await clearStartNotices(trx, notices);
    });
    for (const row of rows) report[row.status === 'skipped' ? 'skipped' : 'queued']++;
    if (notices.length < batchSize) break;
  }
  return report;
}

/** A user not active, already enrolled (R-B6: they see no prompt either) or without an address gets a row recorded as skipped, with the reason. */
function startedMessageRow(n: StartNotice, now: number) {
  const skip = n.state !== 'active' ? skipReasons.notActive : n.enrolled ? skipReasons.enrolled : n.email ? null : skipReasons.noAddress;
  const message: MailMessage = {
    kind: 'enrollment_started',
    params: {
      name: displayName(n),
      enrollmentDays: n.enrollmentDays,
      periodStartsAt: n.periodStartsAt,
      periodEndsAt: n.periodEndsAt,
      reason: n.reason,
    },
  };
  return outboxRow({
    userId: n.id,
    key: idempotencyKeys.enrollmentStarted(n.id, n.periodStartsAt),
    to: n.email,
    // Due since the change, as if the change had queued it (never later than now: clock skew between instances).
    at: Math.min(n.periodStartsAt, now),
    skip,
    subject: renderSubject(message),
    message,
  });
}

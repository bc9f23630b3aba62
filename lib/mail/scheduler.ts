import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { dueExpiredCandidates, dueReminderCandidates, insertOutboxRows, type EnrollmentCandidate } from '../../db/queries/mail';
import { dueGraceReminderCandidates } from '../../db/queries/policy-grace';
import { loadMfaSettings } from '../../db/queries/settings';
import { oneDay, type Clock } from '../clock';
import { countingFactorTypes } from '../factors/counting';
import { displayName, idempotencyKeys, outboxRow, skipReasons } from './enqueue';
import type { MailMessage } from './templates';

/**
 * Messages no request queues itself, run by the worker loop: "period started" for marked
 * requirements (start-notices.ts), reminders before a period ends and the notice once it
 * ended without enrollment. Idempotent: every message has its key (user,
 * period end, offset), so any number of workers may run this at once, and a missed run is
 * made up at the next one.
 */

/** Periods that ended longer ago than this get no "period ended" notice (mail switched on for an old install). */
const expiredNoticeLookbackMs = 14 * oneDay;
const batchSize = 500;

export interface ScheduleOptions {
  /** Offsets before the period end, longest first (readMailConfig().reminderOffsetsMs). */
  reminderOffsetsMs: readonly number[];
  expiredLookbackMs?: number;
}

export interface ScheduleReport {
  reminders: number;
  expired: number;
}

/**
 * Queues every reminder and expiry notice due at `clock.now()`. Only the latest due
 * reminder of a period is sent: a worker that was down for days sends "1 day left", not
 * "3 days left" as well. Users who enrolled, whose requirement was cleared, or who are not
 * active get none. "Period started" messages are not queued here but by every worker round
 * (runMailTick in worker.ts), which runs this scheduler only now and then.
 */
export async function scheduleDueMessages(db: Kysely<Database>, clock: Clock, options: ScheduleOptions): Promise<ScheduleReport> {
  const now = clock.now();
  const countingTypes = countingFactorTypes(await loadMfaSettings(db));
  const report: ScheduleReport = { reminders: 0, expired: 0 };
  if (countingTypes === null) return report; // Duo only: nobody has anything to set up (R-E5).

  const offsets = [...options.reminderOffsetsMs].sort((a, b) => b - a);
  for (let i = 0; i < offsets.length; i++) {
    const offsetMs = offsets[i]!;
    const nextOffsetMs = offsets[i + 1] ?? 0;
    report.reminders += await drain(
      () => dueReminderCandidates(db, { now, offsetMs, nextOffsetMs, countingTypes, limit: batchSize }),
      (c) => ({
        key: idempotencyKeys.reminder(c.userId, c.periodEndsAt, offsetMs),
        message: { kind: 'enrollment_reminder', params: { name: displayName(c), periodEndsAt: c.periodEndsAt, offsetMs } },
      }),
      db,
      now,
    );
    // Issue 18 part 6: policies' grace windows get the same reminders, at the same offsets.
    // No "period ended" notice for them: after a window the policy forces setup at sign-in.
    report.reminders += await drain(
      () => dueGraceReminderCandidates(db, { now, offsetMs, nextOffsetMs, countingTypes, limit: batchSize }),
      (c) => ({
        key: idempotencyKeys.reminder(c.userId, c.periodEndsAt, offsetMs),
        message: { kind: 'enrollment_reminder', params: { name: displayName(c), periodEndsAt: c.periodEndsAt, offsetMs, grace: true } },
      }),
      db,
      now,
    );
  }
  report.expired = await drain(
    () =>
      dueExpiredCandidates(db, {
        now,
        lookbackMs: options.expiredLookbackMs ?? expiredNoticeLookbackMs,
        countingTypes,
        limit: batchSize,
      }),
    (c) => ({
      key: idempotencyKeys.enrollmentExpired(c.userId, c.periodEndsAt),
      message: { kind: 'enrollment_expired', params: { name: displayName(c), periodEndsAt: c.periodEndsAt } },
    }),
    db,
    now,
  );
  return report;
}

async function drain(
  find: () => Promise<EnrollmentCandidate[]>,
  build: (c: EnrollmentCandidate) => { key: string; message: MailMessage },
  db: Kysely<Database>,
  now: number,
): Promise<number> {
  let queued = 0;
  for (;;) {
    const candidates = await find();
    if (candidates.length === 0) return queued;
    const rows = candidates.map((c) => {
      const { key, message } = build(c);
      return outboxRow({ userId: c.userId, key, to: c.email, at: now, skip: c.email ? null : skipReasons.noAddress, message });
    });
    queued += await insertOutboxRows(db, rows);
    if (candidates.length < batchSize) return queued;
  }
}

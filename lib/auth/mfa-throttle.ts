import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db';
import { oneDay, oneHour, oneMinute } from '../clock';

/**
 * Guess throttling for second factors (TOTP codes, recovery codes), per user, in the
 * database, so every session, address and app instance draws on the same budget (R-I2).
 *
 * - Admission is one atomic upsert: an attempt is let in only when the user is not
 *   blocked, and the same statement already counts it as a guess and sets the next wait.
 *   Parallel requests therefore cannot slip extra guesses past the backoff.
 * - After `freeGuesses` checked guesses each further one waits twice as long, from 30 s up
 *   to an hour. An attacker gets at most ~35 guesses a day against a 10^6 code space,
 *   well under NIST SP 800-63B's cap of 100 consecutive failures.
 * - Every refusal (wrong, malformed, replayed, or sent while blocked) adds to `failures`.
 * - A success clears the row; so does an admin (clearMfaThrottle) and a day of quiet.
 * - It slows the account down, never closes it: the longest wait is an hour.
 */

export const freeGuesses = 4;
export const firstDelayMs = 30_000;
export const maxDelayMs = oneHour;
/** Counts restart after a day without attempts. */
export const quietResetMs = oneDay;

/** The wait after the `guesses`-th admitted guess (assuming it fails): 0 for the first four, then 30 s, 1 min, 2 min … 1 h. */
export function guessDelayMs(guesses: number): number {
  if (guesses <= freeGuesses) return 0;
  const exponent = Math.min(guesses - freeGuesses - 1, 30);
  return Math.min(firstDelayMs * 2 ** exponent, maxDelayMs);
}

/** The guess count from which the delay no longer grows. */
const cappedFrom = (() => {
  let g = freeGuesses + 1;
  while (guessDelayMs(g) < maxDelayMs) g++;
  return g;
})();

/**
 * guessDelayMs(previous + 1) as a SQL CASE over the stored count, so admission stays one
 * statement. Literals only: the statement's text is the same for every call.
 */
const delayAfterNextGuess = (() => {
  const arms = [];
  for (let g = freeGuesses + 1; g < cappedFrom; g++) {
    arms.push(sql`when mfa_throttle.guesses = ${sql.lit(g - 1)} then ${sql.lit(guessDelayMs(g))}`);
  }
  return sql<number>`(case when mfa_throttle.guesses >= ${sql.lit(cappedFrom - 1)} then ${sql.lit(maxDelayMs)} ${sql.join(arms, sql` `)} else 0 end)`;
})();

// A stale row has always stopped blocking: quiet for a day is longer than any wait.
if (quietResetMs <= maxDelayMs) throw new Error('quietResetMs must exceed maxDelayMs');

const big = (n: number) => sql<number>`cast(${n} as bigint)`;

export type Admission = { admitted: true } | { admitted: false; retryAfterMs: number };

/**
 * Asks to check one guess for `userId`. When admitted, the guess is already counted and
 * the next wait already set (as if it fails): call mfaGuessFailed() or mfaGuessSucceeded()
 * after checking. When refused, the refusal is counted as a failure.
 */
export async function admitMfaGuess(db: Kysely<Database>, userId: string, now: number): Promise<Admission> {
  const open = sql<boolean>`mfa_throttle.blocked_until <= ${big(now)}`;
  const stale = sql<boolean>`mfa_throttle.last_attempt_at <= ${big(now - quietResetMs)}`;
  const row = await db
    .insertInto('mfa_throttle')
    .values({ user_id: userId, failures: 0, guesses: 1, last_attempt_at: now, blocked_until: now + guessDelayMs(1), admitted: 1 })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        // Open: count the guess (from scratch after a quiet day) and set the next wait now.
        // Blocked: not checked, only counted as a failure.
        guesses: sql`case when ${stale} then 1 when ${open} then mfa_throttle.guesses + 1 else mfa_throttle.guesses end`,
        failures: sql`case when ${stale} then 0 when ${open} then mfa_throttle.failures else mfa_throttle.failures + 1 end`,
        blocked_until: sql`case when ${stale} then ${big(now)} when ${open} then ${big(now)} + ${delayAfterNextGuess} else mfa_throttle.blocked_until end`,
        admitted: sql`case when ${open} then 1 else 0 end`,
        last_attempt_at: big(now),
      }),
    )
    .returning(['admitted', 'blocked_until'])
    .executeTakeFirstOrThrow();
  if (row.admitted === 1) return { admitted: true };
  return { admitted: false, retryAfterMs: Math.max(0, row.blocked_until - now) };
}

/** Counts a checked guess that failed (admission already set the wait). */
export async function mfaGuessFailed(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await db
    .updateTable('mfa_throttle')
    .set({ failures: sql`failures + 1`, last_attempt_at: now })
    .where('user_id', '=', userId)
    .execute();
}

/** Counts a failure that was no guess at all (malformed input): no backoff, still on the record. */
export async function mfaInputRefused(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  await db
    .insertInto('mfa_throttle')
    .values({ user_id: userId, failures: 1, guesses: 0, last_attempt_at: now, blocked_until: 0, admitted: 0 })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        failures: sql`case when mfa_throttle.last_attempt_at <= ${big(now - quietResetMs)} then 1 else mfa_throttle.failures + 1 end`,
        guesses: sql`case when mfa_throttle.last_attempt_at <= ${big(now - quietResetMs)} then 0 else mfa_throttle.guesses end`,
        last_attempt_at: big(now),
        admitted: 0,
      }),
    )
    .execute();
}

export async function mfaGuessSucceeded(db: Kysely<Database>, userId: string): Promise<void> {
  await clearMfaThrottle(db, userId);
}

/** For admins (R-I2: an admin can always unlock) and for a successful second factor. */
export async function clearMfaThrottle(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('mfa_throttle').where('user_id', '=', userId).execute();
}

export interface MfaThrottleState {
  failures: number;
  guesses: number;
  retryAfterMs: number;
}

export async function mfaThrottleState(db: Kysely<Database>, userId: string, now: number): Promise<MfaThrottleState> {
  const row = await db.selectFrom('mfa_throttle').selectAll().where('user_id', '=', userId).executeTakeFirst();
  if (!row || row.last_attempt_at <= now - quietResetMs) return { failures: 0, guesses: 0, retryAfterMs: 0 };
  return { failures: row.failures, guesses: row.guesses, retryAfterMs: Math.max(0, row.blocked_until - now) };
}

export const mfaThrottleMessage = (retryAfterMs: number) =>
  `Too many attempts. Wait ${retryAfterMs <= oneMinute ? `${Math.max(1, Math.ceil(retryAfterMs / 1000))} seconds` : `${Math.ceil(retryAfterMs / oneMinute)} minutes`} and try again.`;

import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { getThrottle } from '../../db/queries/throttle';
import { getUserById } from '../../db/queries/users';
import { accountKey, resetThrottle } from '../auth/throttle';
import { guessState, unlockGuesses } from '../auth/mfa-throttle';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError } from './errors';

/**
 * R-I2: "an admin can always unlock". A user's guess budgets live in two places: the
 * password throttle keyed `user:<username_lower>` (lib/auth/throttle.ts) and the second-factor
 * budgets of the user's sources and account (lib/auth/mfa-throttle.ts). The second-factor
 * unlock raises the user's epoch: what in-flight requests charged before it never counts
 * again. The password throttle's per-address row is not the user's: it stays, so unlocking
 * one account never lifts a block on an attacking address.
 */

export interface UserThrottleState {
  /** Password failures in the current window, and the wait before the next try (ms). */
  signIn: { failures: number; retryAfterMs: number };
  /** Second-factor failures in the rolling day (all kinds), the sources held back and their longest wait (ms), the kinds at the daily cap. */
  mfa: { failures: number; throttledSources: number; retryAfterMs: number; capped: string[] };
  /** Anything on record worth an "Unlock" button. */
  throttled: boolean;
}

/** What the throttles hold for a user right now (for the user's page). */
export async function userThrottleState(
  db: Kysely<Database>,
  user: { id: string; username: string },
  clock: Clock,
): Promise<UserThrottleState> {
  const now = clock.now();
  const [row, guesses] = await Promise.all([getThrottle(db, accountKey(user.username.toLowerCase())), guessState(db, user.id, now)]);
  const signIn = row ? { failures: row.failures, retryAfterMs: Math.max(0, row.blocked_until - now) } : { failures: 0, retryAfterMs: 0 };
  const mfa = {
    failures: guesses.dayFailures.totp + guesses.dayFailures.recovery,
    throttledSources: guesses.throttledSources,
    retryAfterMs: guesses.retryAfterMs,
    capped: guesses.capped,
  };
  return { signIn, mfa, throttled: signIn.failures > 0 || signIn.retryAfterMs > 0 || mfa.failures > 0 || mfa.retryAfterMs > 0 };
}

/**
 * Clears the user's password and second-factor throttles, audited as `user.unlocked` with
 * the counts that were cleared, in one transaction.
 * @throws NotFoundError('user')
 * @example await unlockUser(db, userId, actor, clock)
 */
export async function unlockUser(
  db: Kysely<Database>,
  userId: string,
  actor: Actor,
  clock: Clock,
): Promise<{ signInFailures: number; mfaFailures: number }> {
  return db.transaction().execute(async (trx) => {
    const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(trx, userId) : undefined;
    if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    const now = clock.now();
    const before = await userThrottleState(trx, { id: user.id, username: user.username }, clock);
    await resetThrottle(trx, accountKey(user.username_lower));
    await unlockGuesses(trx, user.id);
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.unlocked',
      targetType: 'user',
      targetId: user.id,
      details: { signInFailures: before.signIn.failures, mfaFailures: before.mfa.failures, mfaThrottledSources: before.mfa.throttledSources },
      clientIp: actor.clientIp,
    });
    return { signInFailures: before.signIn.failures, mfaFailures: before.mfa.failures };
  });
}

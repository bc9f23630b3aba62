import { secondFactorMethods, type AmrEntry } from '../policy';
import { isFreshSecondFactor } from './setup-flow';

/**
 * The lost-device path: someone signed in with a recovery code instead of their device.
 * Read from the session's own record of the methods it passed (lib/auth/sessions.ts), never
 * from a parameter the browser sends, so neither the recovered page nor the audit entry of a
 * device added on this path can be reached or claimed by asking.
 */

/** When the session passed a recovery code, if that is the latest second factor it passed; else null. */
export function recoveryCodeSignInAt(amr: readonly AmrEntry[]): number | null {
  let latest: AmrEntry | null = null;
  for (const entry of amr) {
    if (secondFactorMethods.has(entry.method) && (latest === null || entry.at > latest.at)) latest = entry;
  }
  return latest?.method === 'recovery' ? latest.at : null;
}

/**
 * The recovered page is for a session that just passed a recovery code: it is the latest
 * second factor, and fresh (the same five minutes that adding a device needs, R-E8).
 */
export function justRecovered(amr: readonly AmrEntry[], now: number): boolean {
  return isFreshSecondFactor(recoveryCodeSignInAt(amr), now);
}

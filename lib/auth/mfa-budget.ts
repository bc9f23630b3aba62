import { oneDay, oneHour, oneMinute } from '../clock';

/**
 * Second-factor guess budgets (R-I2), as pure functions: state and time in, verdicts and new
 * state out. The I/O (one transaction per charge) is lib/auth/mfa-throttle.ts.
 *
 * - Failures slow the SOURCE that makes them: the pending sign-in (session) and the client
 *   address. A pending sign-in gets `sessionFreeFailures` codes, an address
 *   `addressFreeFailures`; after that each further failure waits twice as long, from 30 s up
 *   to an hour, for that source only. A valid code from a source with no recent failures
 *   passes while another source is throttled.
 * - A failure is charged at admission, before the code is checked, and refunded on success,
 *   so parallel guesses cannot all be checked. Refusals while throttled are not counted.
 * - Per account and kind (TOTP codes, recovery codes): at most `dailyFailureCap` failures in
 *   a rolling day (NIST SP 800-63B). Reaching it refuses further codes of that kind; WebAuthn
 *   and Duo are never throttled by these counts.
 * - An admin unlock raises the account's epoch: counts charged under an older epoch no longer
 *   count, whatever in-flight requests do afterwards.
 */

export type GuessKind = 'totp' | 'recovery';
export const guessKinds: readonly GuessKind[] = ['totp', 'recovery'];

export const sessionFreeFailures = 5;
export const addressFreeFailures = 9;
export const firstDelayMs = 30_000;
export const maxDelayMs = oneHour;
/** A source quiet this long starts afresh. */
export const sourceQuietResetMs = oneDay;
/** NIST SP 800-63B: at most 100 failed attempts; here per rolling day and kind. */
export const dailyFailureCap = 100;
export const capWindowMs = oneDay;
/** The "someone is trying codes" mail: from this many failures in a rolling day … */
export const notifyAtFailures = 10;
/** … at most once in this long. */
export const notifyEveryMs = oneDay;

export type SourceType = 'session' | 'address';

/** A source's key: `session:<id>` or `ip:<address>`. */
export const sessionSource = (sessionId: string) => `session:${sessionId}`;
export const addressSource = (ip: string) => `ip:${ip}`;

export function sourceTypeOf(source: string): SourceType {
  return source.startsWith('session:') ? 'session' : 'address';
}

export function freeFailuresOf(source: string): number {
  return sourceTypeOf(source) === 'session' ? sessionFreeFailures : addressFreeFailures;
}

/** The wait after a source's `failures`-th failure: none before the free ones are spent, then 30 s, 1 min, … 1 h. */
export function sourceDelayMs(failures: number, freeFailures: number): number {
  if (failures < freeFailures) return 0;
  const exponent = Math.min(failures - freeFailures, 30);
  return Math.min(firstDelayMs * 2 ** exponent, maxDelayMs);
}

/** One source's stored count (null: none stored). */
export interface SourceState {
  source: string;
  failures: number;
  lastFailureAt: number;
  /** The account epoch the count was charged under. */
  epoch: number;
}

/** The failures that still count: none under an older epoch (unlocked) or after a quiet day. */
export function liveFailures(state: SourceState | null | undefined, epoch: number, now: number): number {
  if (!state || state.epoch !== epoch || state.lastFailureAt <= now - sourceQuietResetMs) return 0;
  return state.failures;
}

/** Milliseconds until the source may try again; 0 when it may now. */
export function sourceWaitMs(state: SourceState | null | undefined, epoch: number, now: number): number {
  const failures = liveFailures(state, epoch, now);
  if (failures === 0 || !state) return 0;
  return Math.max(0, state.lastFailureAt + sourceDelayMs(failures, freeFailuresOf(state.source)) - now);
}

export interface AccountDay {
  /** Failures of this kind in the last `capWindowMs`, under the current epoch. */
  failures: number;
  /** The oldest of them (null when none). */
  oldestAt: number | null;
}

export type AdmissionVerdict =
  | { admit: true }
  | { admit: false; reason: 'throttled' | 'capped'; retryAfterMs: number };

/**
 * Whether one more guess may be checked. The account cap comes first (it is what the user
 * is told about); otherwise the longest wait of the sources decides.
 */
export function decideAdmission(input: { sources: (SourceState | null | undefined)[]; day: AccountDay; epoch: number; now: number }): AdmissionVerdict {
  const { sources, day, epoch, now } = input;
  if (day.failures >= dailyFailureCap) {
    const retryAfterMs = day.oldestAt === null ? capWindowMs : Math.max(1, day.oldestAt + capWindowMs - now);
    return { admit: false, reason: 'capped', retryAfterMs };
  }
  const wait = Math.max(0, ...sources.map((s) => sourceWaitMs(s, epoch, now)));
  return wait > 0 ? { admit: false, reason: 'throttled', retryAfterMs: wait } : { admit: true };
}

/** A source after one more failure is charged to it at `now`. */
export function chargedSource(source: string, state: SourceState | null | undefined, epoch: number, now: number): SourceState {
  return { source, failures: liveFailures(state, epoch, now) + 1, lastFailureAt: now, epoch };
}

/** A source after a charge made under `epoch` is refunded (the guess was right); unchanged if unlocked since. */
export function refundedSource(state: SourceState, epoch: number): SourceState {
  if (state.epoch !== epoch) return state;
  return { ...state, failures: Math.max(0, state.failures - 1) };
}

/** Whether the failures mail is due: `failures` in the rolling day reached the mark, and none was sent within a day. */
export function notifyDue(failures: number, lastNotifiedAt: number | null, now: number): boolean {
  return failures >= notifyAtFailures && (lastNotifiedAt === null || lastNotifiedAt <= now - notifyEveryMs);
}

/** What the verify page says to a throttled source, or at the cap. */
export function waitText(retryAfterMs: number): string {
  if (retryAfterMs <= oneMinute) return `${Math.max(1, Math.ceil(retryAfterMs / 1000))} seconds`;
  if (retryAfterMs <= 2 * oneHour) return `${Math.ceil(retryAfterMs / oneMinute)} minutes`;
  return `${Math.ceil(retryAfterMs / oneHour)} hours`;
}

export const budgetMessages = {
  throttled: (retryAfterMs: number) => `Too many attempts from here. Wait ${waitText(retryAfterMs)} and try again.`,
  capped: (kind: GuessKind) =>
    `Too many wrong ${kind === 'recovery' ? 'recovery codes' : 'codes'} were tried on your account today, so ${
      kind === 'recovery' ? 'recovery codes are' : 'codes from your authenticator app are'
    } turned off for now. Use another sign-in method or contact your administrator. We have emailed you: someone who knows your password may be trying codes, so change your password.`,
} as const;

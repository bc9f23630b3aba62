import type { MfaRequirement, MfaStatus, UserState } from './types';

/** Enrollment window maths (R-B2, R-B4) and the admin's status column (R-F1). */

export const oneDayMs = 86_400_000;
export const minEnrollmentDays = 1;
export const maxEnrollmentDays = 365;
export const defaultEnrollmentDays = 7;

/** R-B2: whole numbers 1–365. Strings are refused here; parsing form input is the caller's job. */
export function isValidEnrollmentDays(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= minEnrollmentDays && x <= maxEnrollmentDays;
}

/**
 * The window [startsAt, endsAt): a period of 7 days started at t ends at t + 7 days, and
 * at that exact instant it has already ended.
 * @example enrollmentPeriod(Date.UTC(2025, 0, 1), 7).endsAt === Date.UTC(2025, 0, 8)
 */
export function enrollmentPeriod(startsAt: number, days: number): { startsAt: number; endsAt: number } {
  if (!Number.isFinite(startsAt)) throw new RangeError('Enrollment period start must be a finite time.');
  if (!isValidEnrollmentDays(days)) {
    throw new RangeError(`Enrollment days must be a whole number from ${minEnrollmentDays} to ${maxEnrollmentDays}.`);
  }
  return { startsAt, endsAt: startsAt + days * oneDayMs };
}

/**
 * The one expiry test, shared by decide() and mfaStatus() so the gate and the admin
 * column cannot disagree. A missing end counts as ended: an active, required user without
 * a window is a data error, and guessing a window would let them in.
 */
export function periodRunning(requirement: MfaRequirement, now: number): boolean {
  const endsAt = requirement.periodEndsAt;
  return endsAt !== null && now < endsAt;
}

/**
 * R-F1. `enrolled` should come from isEnrolled() so this agrees with decide().
 * Once enrolled, the period no longer matters (R-B6).
 */
export function mfaStatus(
  user: { state: UserState },
  requirement: MfaRequirement | null,
  enrolled: boolean,
  now: number,
): MfaStatus {
  if (enrolled) return { status: 'enrolled', startsAt: null, endsAt: null };
  if (requirement === null || requirement.required !== true) return { status: 'not_enrolled', startsAt: null, endsAt: null };
  // R-B4: the period starts on activation.
  if (user.state === 'staged') return { status: 'pre_enrollment', startsAt: null, endsAt: null };
  const window = { startsAt: requirement.periodStartsAt, endsAt: requirement.periodEndsAt };
  return periodRunning(requirement, now) ? { status: 'enrollment_period', ...window } : { status: 'expired', ...window };
}

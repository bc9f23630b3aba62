import { oneDayMs } from './status';
import type { CompiledPolicy, Decision } from './types';

/**
 * Issue 18 part 3, remembered devices, as pure functions. A require-MFA policy may allow
 * "don't ask again on this device for N days"; decide() calls rememberedOr() only on its
 * plain require-MFA path (no phishing-resistant or re-verification demand among the
 * matching policies, no second factor yet), so nothing here runs for a deny, an allow, an
 * individual requirement alone or R-D11, and the common path pays nothing.
 */

/** "Don't ask again on this device for N days": 1 … 90. */
export const minRememberDays = 1;
export const maxRememberDays = 90;

/**
 * A stored N as compile.ts keeps it. NOTE: fail closed on a damaged row: anything that is
 * not null becomes a whole number of days clamped into 1 … 90, and a non-number becomes
 * the shortest, never "not allowed" turned into "allowed for long".
 */
export function rememberDaysOf(raw: unknown): number | null {
  if (raw === undefined || raw === null) return null;
  const n = typeof raw === 'number' && Number.isFinite(raw) ? Math.floor(raw) : minRememberDays;
  return Math.min(maxRememberDays, Math.max(minRememberDays, n));
}

/**
 * Whether a device made at `createdAt` still counts under a policy that remembers for
 * `days` days: strictly younger than N days at `now`. A device dated a little after `now`
 * (another instance's clock ahead) counts, as a fresh second factor does in strength.ts.
 */
export function deviceCounts(createdAt: number, days: number, now: number): boolean {
  return now - createdAt < days * oneDayMs;
}

/**
 * R-D15: `needed` is what decide() answers a session with no second factor under `policy`,
 * the winning require-MFA policy; `days` is the N every matching require-MFA policy allows
 * (the smallest), or null when one of them does not allow remembering. A challenge becomes
 * an allow when the request presented a device that still counts; otherwise the challenge
 * says how many days the verify page may offer. Any other decision (a forced setup) is
 * returned as is: a remembered device stands in for a challenge passed, never for a factor
 * set up.
 */
export function rememberedOr(
  needed: Decision,
  policy: CompiledPolicy,
  days: number | null,
  device: { createdAt: number } | null | undefined,
  now: number,
): Decision {
  if (needed.kind !== 'challenge' || days === null) return needed;
  if (device && deviceCounts(device.createdAt, days, now)) return { kind: 'allow', rule: 'R-D15', policy: policy.ref };
  return { ...needed, rememberDays: days };
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { clearThrottle, putAddressThrottle, recordAddressAccountFailure, recordThrottleFailure, setThrottleBlockedUntil } from '../../db/queries/throttle';
import { oneMinute } from '../clock';

/**
 * Guess throttling that slows attackers without handing them a lockout (R-I2):
 * - per account: after a few free failures each further one doubles a short wait, capped,
 *   so a victim is delayed by at most `accountMaxDelayMs`, never shut out;
 * - per client address: DISTINCT failing accounts in a window, since one address guessing many
 *   accounts is an attack, while one office behind a NAT address, whose people mistype
 *   their own passwords, is not: 50 colleagues may each fail before the address waits.
 * Counts live in the database, so every app instance sees the same numbers.
 */
export interface ThrottleRule {
  windowMs: number;
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const accountThrottle: ThrottleRule = { windowMs: 15 * oneMinute, freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: oneMinute };
/** Counts distinct accounts, not failures (countAddressFailure). */
export const addressThrottle: ThrottleRule = { windowMs: 15 * oneMinute, freeFailures: 50, baseDelayMs: 10_000, maxDelayMs: 15 * oneMinute };

function throttleDelay(rule: ThrottleRule, failures: number): number {
  if (failures <= rule.freeFailures) return 0;
  const exponent = Math.min(failures - rule.freeFailures - 1, 30);
  return Math.min(rule.baseDelayMs * 2 ** exponent, rule.maxDelayMs);
}

/** Milliseconds until a key blocked until `blockedUntil` (null: no row) may try again; 0 when it may now. */
export function waitUntil(blockedUntil: number | null, now: number): number {
  return blockedUntil !== null && blockedUntil > now ? blockedUntil - now : 0;
}

export async function countFailure(db: Kysely<Database>, key: string, rule: ThrottleRule, now: number): Promise<number> {
  const row = await recordThrottleFailure(db, key, now, rule.windowMs);
  const delay = throttleDelay(rule, row.failures);
  if (delay > 0) await setThrottleBlockedUntil(db, key, now + delay);
  return row.failures;
}

/**
 * A failed password sign-in from `ip` for `usernameLower`: the address waits once more than
 * `addressThrottle.freeFailures` distinct accounts failed from it within the window. Returns
 * the distinct count.
 */
export async function countAddressFailure(db: Kysely<Database>, ip: string, usernameLower: string, now: number): Promise<number> {
  const accounts = await recordAddressAccountFailure(db, ip, usernameLower, now, addressThrottle.windowMs);
  const delay = throttleDelay(addressThrottle, accounts);
  await putAddressThrottle(db, addressKey(ip), accounts, now, delay > 0 ? now + delay : 0);
  return accounts;
}

export async function resetThrottle(db: Kysely<Database>, key: string): Promise<void> {
  await clearThrottle(db, key);
}

export const accountKey = (usernameLower: string) => `user:${usernameLower}`;
export const addressKey = (ip: string) => `ip:${ip}`;

import { describe, expect, it } from 'vitest';
import {
  addressFreeFailures,
  addressSource,
  chargedSource,
  dailyFailureCap,
  decideAdmission,
  liveFailures,
  maxDelayMs,
  notifyDue,
  refundedSource,
  sessionFreeFailures,
  sessionSource,
  sourceDelayMs,
  sourceWaitMs,
  type SourceState,
} from '@/lib/auth/mfa-budget';

/**
 * The second-factor budgets as a table (R-I2). Personas: mallory guesses bob's codes from her
 * own pending sign-in and address; bob signs in from his.
 */

const t0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const noDay = { failures: 0, oldestAt: null };
const mallorySession = sessionSource('mallory-pending');
const malloryIp = addressSource('203.0.113.66');
const bobSession = sessionSource('bob-pending');
const bobIp = addressSource('198.51.100.7');

/** A source after `n` failures charged one after another at `at`. */
function afterFailures(source: string, n: number, at = t0, epoch = 0): SourceState | null {
  let state: SourceState | null = null;
  for (let i = 0; i < n; i++) state = chargedSource(source, state, epoch, at);
  return state;
}

describe('the backoff of one source', () => {
  it.each([
    [1, 0],
    [4, 0],
    [5, 30_000],
    [6, 60_000],
    [7, 120_000],
    [11, 32 * 60_000],
    [12, 60 * 60_000],
    [500, 60 * 60_000],
  ])('a pending sign-in after %i failures waits %i ms', (failures, delay) => {
    expect(sourceDelayMs(failures, sessionFreeFailures)).toBe(delay);
  });

  it(`a pending sign-in gets ${sessionFreeFailures} codes, an address ${addressFreeFailures}, then 30 s doubling to at most an hour`, () => {
    expect(sourceDelayMs(sessionFreeFailures - 1, sessionFreeFailures)).toBe(0);
    expect(sourceDelayMs(sessionFreeFailures, sessionFreeFailures)).toBe(30_000);
    expect(sourceDelayMs(addressFreeFailures - 1, addressFreeFailures)).toBe(0);
    expect(sourceDelayMs(addressFreeFailures, addressFreeFailures)).toBe(30_000);
    expect(Math.max(...Array.from({ length: 1000 }, (_, i) => sourceDelayMs(i, 1)))).toBe(maxDelayMs);
  });
});

describe('admission', () => {
  it('mallory’s pending sign-in is held back after 5 failures; bob’s own sources are not', () => {
    const mallory = afterFailures(mallorySession, 5);
    expect(decideAdmission({ sources: [mallory, null], day: { failures: 5, oldestAt: t0 }, epoch: 0, now: t0 + 1 })).toEqual({
      admit: false,
      reason: 'throttled',
      retryAfterMs: 29_999,
    });
    expect(decideAdmission({ sources: [null, null], day: { failures: 5, oldestAt: t0 }, epoch: 0, now: t0 + 1 })).toEqual({ admit: true });
  });

  it('the longest wait of the sources decides: a fresh pending sign-in from a throttled address still waits', () => {
    const ip = afterFailures(malloryIp, 10);
    const verdict = decideAdmission({ sources: [null, ip], day: noDay, epoch: 0, now: t0 });
    expect(verdict).toEqual({ admit: false, reason: 'throttled', retryAfterMs: 60_000 });
  });

  it('a wait that is over admits again, and the next failure waits twice as long', () => {
    const five = afterFailures(mallorySession, 5)!;
    expect(sourceWaitMs(five, 0, t0 + 30_000)).toBe(0);
    const six = chargedSource(mallorySession, five, 0, t0 + 30_000);
    expect(sourceWaitMs(six, 0, t0 + 30_000)).toBe(60_000);
  });

  it(`the account cap: ${dailyFailureCap} failures in a rolling day refuse the kind until the oldest is a day old`, () => {
    const day = { failures: dailyFailureCap, oldestAt: t0 };
    expect(decideAdmission({ sources: [null, null], day, epoch: 0, now: t0 + 3_600_000 })).toEqual({
      admit: false,
      reason: 'capped',
      retryAfterMs: 23 * 3_600_000,
    });
    expect(decideAdmission({ sources: [null, null], day: { failures: dailyFailureCap - 1, oldestAt: t0 }, epoch: 0, now: t0 })).toEqual({ admit: true });
  });
});

describe('unlock epochs, refunds and quiet days', () => {
  it('counts charged under an older epoch do not count (an admin unlocked since)', () => {
    const held = afterFailures(mallorySession, 8, t0, 0)!;
    expect(liveFailures(held, 1, t0)).toBe(0);
    expect(sourceWaitMs(held, 1, t0)).toBe(0);
    expect(chargedSource(mallorySession, held, 1, t0)).toEqual({ source: mallorySession, failures: 1, lastFailureAt: t0, epoch: 1 });
  });

  it('a refund takes back one charge of its own epoch only', () => {
    const two = afterFailures(bobIp, 2)!;
    expect(refundedSource(two, 0).failures).toBe(1);
    expect(refundedSource(two, 1)).toBe(two);
    expect(refundedSource({ ...two, failures: 0 }, 0).failures).toBe(0);
  });

  it('a source quiet for a day starts afresh', () => {
    const held = afterFailures(bobSession, 7)!;
    expect(liveFailures(held, 0, t0 + 86_400_000)).toBe(0);
  });
});

describe('the failures mail', () => {
  it('is due from 10 failures in the day, at most once a day', () => {
    expect(notifyDue(9, null, t0)).toBe(false);
    expect(notifyDue(10, null, t0)).toBe(true);
    expect(notifyDue(50, t0 - 3_600_000, t0)).toBe(false);
    expect(notifyDue(50, t0 - 86_400_000, t0)).toBe(true);
  });
});

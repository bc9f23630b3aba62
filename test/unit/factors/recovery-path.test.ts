import { describe, expect, it } from 'vitest';
import type { AmrEntry } from '@/lib/policy';
import { freshSecondFactorMs } from '@/lib/factors/setup-flow';
import { justRecovered, recoveryCodeSignInAt } from '@/lib/factors/recovery-path';

const now = Date.UTC(2026, 10, 2, 9, 0);
const minute = 60_000;
const pwd: AmrEntry = { method: 'pwd', at: now - 10 * minute };

// [who, amr, recoveryCodeSignInAt, justRecovered at `now`]
const table: [string, AmrEntry[], number | null, boolean][] = [
  ['Rita, a recovery code a minute ago', [pwd, { method: 'recovery', at: now - minute }], now - minute, true],
  ['Rita, a recovery code at the edge of five minutes', [pwd, { method: 'recovery', at: now - freshSecondFactorMs }], now - freshSecondFactorMs, true],
  ['Rita, a recovery code six minutes ago', [pwd, { method: 'recovery', at: now - 6 * minute }], now - 6 * minute, false],
  ['Rita, a recovery code and then her new app', [pwd, { method: 'recovery', at: now - 2 * minute }, { method: 'totp', at: now - minute }], null, false],
  ['Tom, his app, then a recovery code (to confirm a change)', [pwd, { method: 'totp', at: now - 3 * minute }, { method: 'recovery', at: now - minute }], now - minute, true],
  ['Tom, his app only', [pwd, { method: 'totp', at: now - minute }], null, false],
  ['Pat, a password only', [pwd], null, false],
  ['a session with nothing on record', [], null, false],
  ['a recovery code "from the future" (clock skew)', [pwd, { method: 'recovery', at: now + minute }], now + minute, false],
];

describe('the lost-device path, read from the session’s methods', () => {
  it.each(table)('%s', (_who, amr, at, just) => {
    expect(recoveryCodeSignInAt(amr)).toBe(at);
    expect(justRecovered(amr, now)).toBe(just);
  });
});

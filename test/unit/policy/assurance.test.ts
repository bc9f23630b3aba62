import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aalOf, secondFactorAtOf, secondFactorMethods, withMethod, type AmrEntry } from '@/lib/policy';
import { NOW } from './builders';

const MIN = 60_000;
const pwd = (at = NOW): AmrEntry => ({ method: 'pwd', at });

describe('assurance derived from the methods passed', () => {
  it.each<[string, AmrEntry[], 1 | 2, number | null]>([
    ['Nobody: no method passed', [], 1, null],
    ['Pat: a password only', [pwd()], 1, null],
    ['Ada: password, then her authenticator app', [pwd(), { method: 'totp', at: NOW + MIN }], 2, NOW + MIN],
    ['Ben: password, then his security key', [pwd(), { method: 'webauthn', at: NOW + 2 * MIN }], 2, NOW + 2 * MIN],
    ['Dora: password, then Duo', [pwd(), { method: 'duo', at: NOW + MIN }], 2, NOW + MIN],
    ['Lou lost his phone: password, then a recovery code', [pwd(), { method: 'recovery', at: NOW + MIN }], 2, NOW + MIN],
    [
      'Cleo confirmed twice: the later second factor counts for freshness',
      [pwd(), { method: 'totp', at: NOW + MIN }, { method: 'webauthn', at: NOW + 9 * MIN }],
      2,
      NOW + 9 * MIN,
    ],
    ['Mallory: a method nobody knows is not a second factor', [pwd(), { method: 'sms', at: NOW + MIN }], 1, null],
  ])('%s → aal%i, last second factor %s', (_who, amr, aal, at) => {
    expect(aalOf(amr)).toBe(aal);
    expect(secondFactorAtOf(amr)).toBe(at);
  });

  it('passing a method again keeps one entry per method, with the later time', () => {
    const once = withMethod([pwd()], 'totp', NOW + MIN);
    expect(withMethod(once, 'totp', NOW + 5 * MIN)).toEqual([pwd(), { method: 'totp', at: NOW + 5 * MIN }]);
    expect(withMethod(once, 'totp', NOW)).toEqual(once);
  });

  const methodArb = fc.constantFrom('pwd', 'totp', 'webauthn', 'duo', 'recovery', 'sms', '');
  const amrArb = fc.array(fc.record({ method: methodArb, at: fc.integer({ min: 0, max: 2 ** 45 }) }), { maxLength: 8 });

  it('aal2 exactly when some second-factor method is in the list (property)', () => {
    fc.assert(
      fc.property(amrArb, (amr) => {
        expect(aalOf(amr) === 2).toBe(amr.some((e) => secondFactorMethods.has(e.method)));
        expect(secondFactorAtOf(amr) === null).toBe(aalOf(amr) === 1);
      }),
    );
  });

  it('passing a second factor always gives aal2, and its time is at most as old as the new one (property)', () => {
    fc.assert(
      fc.property(amrArb, fc.constantFrom(...secondFactorMethods), fc.integer({ min: 0, max: 2 ** 45 }), (amr, method, at) => {
        const after = withMethod(amr, method, at);
        expect(aalOf(after)).toBe(2);
        expect(secondFactorAtOf(after)!).toBeGreaterThanOrEqual(at);
        expect(new Set(after.map((e) => e.method)).size).toBe(after.length - (amr.length - new Set(amr.map((e) => e.method)).size));
      }),
    );
  });

  it('a password never raises the level (property)', () => {
    fc.assert(
      fc.property(amrArb, fc.integer({ min: 0, max: 2 ** 45 }), (amr, at) => {
        expect(aalOf(withMethod(amr, 'pwd', at))).toBe(aalOf(amr));
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { adminEnrollPath, adminVerdict, adminVerifyPath, type AdminVerdict } from '../../../lib/admin/console-guard';

/*
 * Who gets into the admin console once the gate has allowed the portal (R-D9): the role,
 * then a session that passed a second factor; an admin without a factor enrolls first.
 */
describe('adminVerdict', () => {
  const table: [string, { role: 'user' | 'admin'; aal: 1 | 2 }, boolean, AdminVerdict][] = [
    ['Nils, a user with a verified session', { role: 'user', aal: 2 }, true, 'forbidden'],
    ['Nils, a user without a factor', { role: 'user', aal: 1 }, false, 'forbidden'],
    ['Ada, an admin who passed her second factor', { role: 'admin', aal: 2 }, true, 'ok'],
    ['Ada, an admin with a factor, password only so far', { role: 'admin', aal: 1 }, true, 'verify'],
    ['Abe, a new admin with no factor yet', { role: 'admin', aal: 1 }, false, 'enroll'],
  ];
  it.each(table)('%s → %s', (_who, session, hasFactor, verdict) => {
    expect(adminVerdict(session, hasFactor)).toBe(verdict);
  });

  // Issue 18: the console re-verifies after the org's adminReverifyMinutes (12 hours by default).
  const now = Date.UTC(2026, 11, 3, 21, 0);
  const twelveHours = { now, maxAgeMs: 12 * 60 * 60_000 };
  const ago = (minutes: number) => now - minutes * 60_000;
  const freshness: [string, { role: 'user' | 'admin'; aal: 1 | 2; secondFactorAt: number | null }, AdminVerdict][] = [
    ['Ada passed TOTP 11 hours ago', { role: 'admin', aal: 2, secondFactorAt: ago(11 * 60) }, 'ok'],
    ['Ada passed TOTP exactly 12 hours ago', { role: 'admin', aal: 2, secondFactorAt: ago(12 * 60) }, 'ok'],
    ['Ada passed TOTP 12 hours and a minute ago', { role: 'admin', aal: 2, secondFactorAt: ago(12 * 60 + 1) }, 'verify'],
    ['Ada at aal 2 with no time on record (fails closed)', { role: 'admin', aal: 2, secondFactorAt: null }, 'verify'],
    ['Nils, a user who passed just now, is still no admin', { role: 'user', aal: 2, secondFactorAt: now }, 'forbidden'],
  ];
  it.each(freshness)('%s → %s', (_who, session, verdict) => {
    expect(adminVerdict(session, true, twelveHours)).toBe(verdict);
  });
  it('an admin whose factors were removed since their (now stale) second factor sets one up: there is nothing to verify', () => {
    expect(adminVerdict({ role: 'admin', aal: 2, secondFactorAt: ago(13 * 60) }, false, twelveHours)).toBe('enroll');
  });

  it('sends enrollment to the TOTP setup page and the check to the verify page, both back to the console', () => {
    expect(adminEnrollPath('/admin/users?q=a')).toBe('/mfa/setup/totp?returnTo=%2Fadmin%2Fusers%3Fq%3Da&forced=1');
    expect(adminVerifyPath('/admin')).toBe('/mfa/verify?returnTo=%2Fadmin&fresh=1');
  });
});

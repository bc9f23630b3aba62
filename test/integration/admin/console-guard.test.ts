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

  it('sends enrollment to the TOTP setup page and the check to the verify page, both back to the console', () => {
    expect(adminEnrollPath('/admin/users?q=a')).toBe('/mfa/setup/totp?returnTo=%2Fadmin%2Fusers%3Fq%3Da&forced=1');
    expect(adminVerifyPath('/admin')).toBe('/mfa/verify?returnTo=%2Fadmin&fresh=1');
  });
});

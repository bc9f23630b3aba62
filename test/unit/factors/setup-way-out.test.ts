import { describe, expect, it } from 'vitest';
import { setupWayOut } from '@/lib/factors/setup-way-out';

/*
 * The way out of a setup step, one persona per case:
 * - Fay, forced to set up TOTP only: Cancel used to loop her back to Set Up; she is offered sign-out.
 * - Finn, forced, may choose TOTP or a security key: sign-out, and the choice of another method.
 * - Olga, in an enrollment period (optional): Cancel goes back to Set Up, where she can skip.
 * - Pia, adding a second device from her Security page: Cancel goes back there.
 */
describe('setupWayOut', () => {
  it('Fay (forced, TOTP only) is offered sign-out, not a Cancel back to the same wall', () => {
    expect(setupWayOut('enroll', { forced: true, methods: ['totp'] }, '/portal')).toEqual({ kind: 'sign_out', otherMethodsHref: null });
  });

  it('Finn (forced, two methods) may sign out or choose the other method', () => {
    expect(setupWayOut('enroll', { forced: true, methods: ['totp', 'webauthn'] }, '/apps/demo')).toEqual({
      kind: 'sign_out',
      otherMethodsHref: '/mfa/setup?returnTo=%2Fapps%2Fdemo',
    });
  });

  it('Olga (optional Set Up) cancels back to the Set Up page, which offers Skip for now', () => {
    expect(setupWayOut('enroll', { forced: false, methods: ['totp'] }, '/portal')).toEqual({ kind: 'cancel', href: '/mfa/setup?returnTo=%2Fportal' });
  });

  it('Pia (adding a device from the portal) cancels back to where she came from', () => {
    expect(setupWayOut('add', { forced: true, methods: ['totp'] }, '/portal/security')).toEqual({ kind: 'cancel', href: '/portal/security' });
  });
});

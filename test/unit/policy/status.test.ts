import { describe, expect, it } from 'vitest';
import {
  enrollmentPeriod,
  isEnrolled,
  isValidEnrollmentDays,
  mfaStatus,
  setupMethods,
  validateSettings,
  type MfaRequirement,
} from '@/lib/policy';
import { DAY, NOW, pendingActivation, requiredWindow, settingsOf } from './builders';

const notRequired: MfaRequirement = { required: false, enrollmentDays: 7, periodStartsAt: null, periodEndsAt: null };
const active = { state: 'active' } as const;
const staged = { state: 'staged' } as const;

describe('mfaStatus (R-F1)', () => {
  it.each([
    ['enrolled, nothing required', active, notRequired, true, { status: 'enrolled', startsAt: null, endsAt: null }],
    ['enrolled, period expired: the period no longer matters (R-B6)', active, requiredWindow(-8 * DAY, -DAY), true, { status: 'enrolled', startsAt: null, endsAt: null }],
    ['not required, no factor', active, notRequired, false, { status: 'not_enrolled', startsAt: null, endsAt: null }],
    ['no requirement row at all', active, null, false, { status: 'not_enrolled', startsAt: null, endsAt: null }],
    ['staged and required → pre-enrollment (R-B4)', staged, pendingActivation, false, { status: 'pre_enrollment', startsAt: null, endsAt: null }],
    ['staged, not required', staged, notRequired, false, { status: 'not_enrolled', startsAt: null, endsAt: null }],
    ['period running', active, requiredWindow(-DAY, 6 * DAY), false, { status: 'enrollment_period', startsAt: NOW - DAY, endsAt: NOW + 6 * DAY }],
    ['period ends 1 ms from now', active, requiredWindow(-7 * DAY, 1), false, { status: 'enrollment_period', startsAt: NOW - 7 * DAY, endsAt: NOW + 1 }],
    ['period ends exactly now → expired', active, requiredWindow(-7 * DAY, 0), false, { status: 'expired', startsAt: NOW - 7 * DAY, endsAt: NOW }],
    ['period ended yesterday', active, requiredWindow(-8 * DAY, -DAY), false, { status: 'expired', startsAt: NOW - 8 * DAY, endsAt: NOW - DAY }],
    ['active, required, no end (data error) → expired, as decide() locks', active, { required: true, enrollmentDays: 7, periodStartsAt: null, periodEndsAt: null }, false, { status: 'expired', startsAt: null, endsAt: null }],
  ] as const)('%s', (_name, user, requirement, enrolled, expected) => {
    expect(mfaStatus(user, requirement, enrolled, NOW)).toEqual(expected);
  });
});

describe('enrollmentPeriod (R-B2, R-B4)', () => {
  it('adds whole days', () => {
    expect(enrollmentPeriod(NOW, 7)).toEqual({ startsAt: NOW, endsAt: NOW + 7 * 86_400_000 });
    expect(enrollmentPeriod(NOW, 1).endsAt - NOW).toBe(86_400_000);
    expect(enrollmentPeriod(NOW, 365).endsAt - NOW).toBe(365 * 86_400_000);
  });

  it('refuses days outside 1–365 and non-finite starts', () => {
    expect(() => enrollmentPeriod(NOW, 0)).toThrow(RangeError);
    expect(() => enrollmentPeriod(NOW, 366)).toThrow(/1 to 365/);
    expect(() => enrollmentPeriod(NOW, 1.5)).toThrow(RangeError);
    expect(() => enrollmentPeriod(Number.NaN, 7)).toThrow(RangeError);
  });
});

describe('isValidEnrollmentDays (R-B2)', () => {
  it.each([1, 7, 365])('accepts %j', (x) => expect(isValidEnrollmentDays(x)).toBe(true));
  it.each([0, 366, -1, -7, 1.5, 7.0000001, Number.NaN, Number.POSITIVE_INFINITY, '7', 'seven', null, undefined, [7], {}])('refuses %j', (x) => {
    expect(isValidEnrollmentDays(x)).toBe(false);
  });
});

describe('setupMethods (R-E2..R-E5)', () => {
  it.each([
    ['R-E2 TOTP only', settingsOf.totpOnly, ['totp'], 'totp'],
    ['R-E3 TOTP and WebAuthn: choice, TOTP by default', settingsOf.totpAndWebauthn, ['totp', 'webauthn'], 'totp'],
    ['R-E3 all three', settingsOf.all, ['totp', 'webauthn'], 'totp'],
    ['R-E4 WebAuthn and Duo: WebAuthn', settingsOf.webauthnAndDuo, ['webauthn'], 'webauthn'],
    ['R-E5 TOTP and Duo: Duo is no setup step', settingsOf.totpAndDuo, ['totp'], 'totp'],
    ['R-E5 Duo only: nothing to set up', settingsOf.duoOnly, [], null],
    ['R-A2 damaged WebAuthn-only: falls back to TOTP', settingsOf.webauthnOnly, ['totp'], 'totp'],
    ['R-A2 damaged nothing-enabled: falls back to TOTP', settingsOf.none, ['totp'], 'totp'],
  ] as const)('%s', (_name, settings, methods, defaultMethod) => {
    expect(setupMethods(settings)).toEqual({ methods, defaultMethod });
  });
});

describe('validateSettings (R-A2)', () => {
  it('refuses WebAuthn alone with the R-A2 message', () => {
    expect(validateSettings(settingsOf.webauthnOnly)).toBe('WebAuthn cannot be the only enabled method: enable TOTP or Duo as well.');
  });
  it('refuses nothing enabled', () => {
    expect(validateSettings(settingsOf.none)).toMatch(/at least one/i);
  });
  it.each(['totpOnly', 'totpAndWebauthn', 'webauthnAndDuo', 'totpAndDuo', 'all', 'duoOnly'] as const)('accepts %s', (k) => {
    expect(validateSettings(settingsOf[k])).toBeNull();
  });
});

describe('isEnrolled', () => {
  it('counts factors of enabled methods only', () => {
    expect(isEnrolled(['totp'], settingsOf.totpOnly)).toBe(true);
    expect(isEnrolled(['totp'], settingsOf.webauthnAndDuo)).toBe(false);
    expect(isEnrolled(['webauthn'], settingsOf.totpOnly)).toBe(false);
    expect(isEnrolled([], settingsOf.all)).toBe(false);
  });
  it('R-E5: with Duo only, everyone counts as enrolled (Duo enrolls its own users)', () => {
    expect(isEnrolled([], settingsOf.duoOnly)).toBe(true);
  });
});

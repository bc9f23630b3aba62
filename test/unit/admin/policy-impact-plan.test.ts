import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { impactPlan, outcomeOf, type ImpactOutcome } from '@/lib/admin/policy-impact-plan';
import { compilePolicies, decide, type Method, type MfaSettings, type PolicyRecord } from '@/lib/policy';
import { NOW, settingsOf } from '../policy/builders';

/**
 * Issue 18 §5: the outcome the impact preview counts per user must be the gate's own, so
 * the set-based counts stay honest. Personas under an all-users policy on the portal.
 */

const Tina: Method[] = ['totp']; // an authenticator app only
const Walt: Method[] = ['webauthn']; // a security key only
const Dora: Method[] = ['duo'];
const Nina: Method[] = []; // no factor yet

const policy = (action: PolicyRecord['action'], strength: PolicyRecord['strength'] = 'any'): PolicyRecord => ({
  id: 'p-draft',
  name: 'Draft',
  description: null,
  enabled: true,
  scope: 'all',
  includeGroupIds: [],
  excludeGroupIds: [],
  conditions: {},
  resources: ['portal'],
  action,
  strength,
  reverifyMinutes: null,
  priority: 0,
});

/** decide() for an active user at a password-only sign-in, mapped to the preview's outcomes. */
function gateOutcome(record: PolicyRecord, settings: MfaSettings, methods: Method[], requirementOn: boolean): ImpactOutcome | 'other' {
  const d = decide({
    now: NOW,
    resource: 'portal',
    session: { amr: [{ method: 'pwd', at: NOW }], mfaSkipped: false },
    user: { id: 'u', state: 'active', groupIds: [] },
    requirement: requirementOn ? { required: true, enrollmentDays: 7, periodStartsAt: NOW - 1, periodEndsAt: NOW + 1_000 } : null,
    enrolledMethods: methods,
    settings: { ...settings, challengeEnrolled: false },
    request: { ip: '203.0.113.9', os: 'windows', browser: 'chrome' },
    policies: compilePolicies([record]),
  });
  if (d.kind === 'deny') return 'deny';
  if (d.kind === 'challenge') return 'challenge';
  if (d.kind === 'enroll') return methods.length > 0 ? 'enroll_has_factor' : 'enroll_has_none';
  if (d.kind === 'allow' && d.policy?.id === record.id) return 'allow';
  return 'other';
}

describe('the impact preview’s outcome per user', () => {
  it.each([
    ['Tina, any second factor, TOTP on: challenged', policy('require_mfa'), settingsOf.totpOnly, Tina, 'challenge'],
    ['Tina, phishing-resistant: must enroll a key though she has a factor', policy('require_mfa', 'phishing_resistant'), settingsOf.totpAndWebauthn, Tina, 'enroll_has_factor'],
    ['Walt, phishing-resistant: challenged', policy('require_mfa', 'phishing_resistant'), settingsOf.totpAndWebauthn, Walt, 'challenge'],
    ['Walt, WebAuthn disabled: his key is a factor of a disabled method', policy('require_mfa'), settingsOf.totpOnly, Walt, 'enroll_has_factor'],
    ['Nina, any second factor: must enroll, has none', policy('require_mfa'), settingsOf.totpOnly, Nina, 'enroll_has_none'],
    ['Nina, Duo only: Duo enrolls its own users, so she is challenged', policy('require_mfa'), settingsOf.duoOnly, Nina, 'challenge'],
    ['Dora, phishing-resistant while WebAuthn is off: denied, never weakened', policy('require_mfa', 'phishing_resistant'), settingsOf.totpAndDuo, Dora, 'deny'],
    ['anyone, deny: denied', policy('deny'), settingsOf.totpOnly, Tina, 'deny'],
    ['anyone, allow: allowed', policy('allow'), settingsOf.totpOnly, Nina, 'allow'],
  ] as const)('%s', (_name, record, settings, methods, expected) => {
    expect(outcomeOf(impactPlan(record, settings), methods)).toBe(expected);
    expect(gateOutcome(record, settings, [...methods], false)).toBe(expected);
  });

  it('property: agrees with decide() for any settings, action, strength, factors and individual requirement', () => {
    fc.assert(
      fc.property(
        fc.record({ totp: fc.boolean(), webauthn: fc.boolean(), duo: fc.boolean() }),
        fc.constantFrom('allow', 'require_mfa', 'deny' as const),
        fc.constantFrom('any', 'phishing_resistant' as const),
        fc.subarray<Method>(['totp', 'webauthn', 'duo']),
        fc.boolean(),
        (settings, action, strength, methods, requirementOn) => {
          // An individual requirement under an allow policy is the requirement's doing, not the policy's.
          fc.pre(!(action === 'allow' && requirementOn));
          const record = policy(action, action === 'require_mfa' ? strength : 'any');
          expect(outcomeOf(impactPlan(record, settings), methods)).toBe(gateOutcome(record, settings, methods, requirementOn));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

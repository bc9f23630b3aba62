import { isEnrolled, type Method, type MfaSettings, type PolicyRecord } from '../policy';

/**
 * Issue 18 §5, the pure half of the impact preview: what a policy does to an active user in
 * its scope, as a function of the factors the user has. The service (policy-impact.ts) turns
 * each outcome into an aggregate SQL count over the scope, so it never calls decide() per
 * user; test/unit/admin/policy-impact-plan.test.ts checks with fast-check that this agrees
 * with decide() for a session that has passed the password only (the next sign-in).
 *
 * - deny policy: every user in scope is denied (R-D2).
 * - require-MFA policy: a user with a factor that satisfies it is challenged; a user with
 *   factors none of which satisfies it (TOTP only under phishing-resistant, or a factor of a
 *   disabled method) is forced to enroll, "has a factor"; a user with no factor is forced to
 *   enroll, "has none" (R-D3, R-D4, R-D13). A phishing-resistant policy while WebAuthn is
 *   off denies everyone (R-D13 fails closed; saving one is refused anyway).
 * - allow policy: it asks nothing of anyone (R-D8); the preview lists who it covers.
 */

export type FactorMethod = Method;

export type ImpactPlan =
  | { readonly kind: 'deny' }
  | { readonly kind: 'allow' }
  /**
   * `satisfying`: the methods whose factor satisfies the policy; null when every active user
   * counts as enrolled whatever they have (Duo-only settings, R-E5: Duo enrolls its own users).
   */
  | { readonly kind: 'second_factor'; readonly satisfying: readonly FactorMethod[] | null };

export type ImpactOutcome = 'deny' | 'allow' | 'challenge' | 'enroll_has_factor' | 'enroll_has_none';

const allMethods: readonly FactorMethod[] = ['totp', 'webauthn', 'duo'];

export function impactPlan(policy: Pick<PolicyRecord, 'action' | 'strength'>, settings: MfaSettings): ImpactPlan {
  if (policy.action === 'deny') return { kind: 'deny' };
  if (policy.action === 'allow') return { kind: 'allow' };
  if (policy.strength === 'phishing_resistant') {
    // R-D13: WebAuthn only; without WebAuthn enabled the gate denies rather than weaken it.
    return settings.webauthn ? { kind: 'second_factor', satisfying: ['webauthn'] } : { kind: 'deny' };
  }
  // The gate's own "enrolled" (isEnrolled), per method: a factor of a disabled method does not count.
  if (isEnrolled([], settings)) return { kind: 'second_factor', satisfying: null };
  return { kind: 'second_factor', satisfying: allMethods.filter((m) => isEnrolled([m], settings)) };
}

/** The outcome for one active user in scope with factors of `methods` (the specification the SQL counts implement). */
export function outcomeOf(plan: ImpactPlan, methods: readonly FactorMethod[]): ImpactOutcome {
  if (plan.kind === 'deny') return 'deny';
  if (plan.kind === 'allow') return 'allow';
  if (plan.satisfying === null) return 'challenge';
  if (methods.some((m) => plan.satisfying!.includes(m))) return 'challenge';
  return methods.length > 0 ? 'enroll_has_factor' : 'enroll_has_none';
}

import { aalOf } from './assurance';
import { strictestMatch } from './criteria';
import { DUO, TOTP, effectiveMask, isEnrolledMask, maskOf, methodsOf, setupMask } from './methods';
import { periodRunning } from './status';
import type { Aal, Decision, DecisionInput, Method, MfaRequirement } from './types';

/**
 * The gate's verdict (SPEC D), as a pure function: data in, decision out. Every decision
 * names the rule that made it, and the policy when one did.
 */

type Session = NonNullable<DecisionInput['session']>;

/** R-D5 / R-D6: required by an individual requirement only, and not enrolled. */
function individualEnrollment(
  session: Session,
  requirement: MfaRequirement,
  setup: number,
  now: number,
): Decision {
  if (!periodRunning(requirement, now)) {
    return { kind: 'locked', reason: 'enrollment_expired', expiredAt: requirement.periodEndsAt, rule: 'R-D6' };
  }
  const methods = methodsOf(setup);
  const defaultMethod = methods[0]!;
  if (setup & TOTP) {
    if (session.mfaSkipped) return { kind: 'allow', rule: 'R-D5' };
    return { kind: 'enroll', forced: false, methods, defaultMethod, deadline: requirement.periodEndsAt, rule: 'R-D5' };
  }
  // R-B3: the period only softens TOTP setup. With nothing but WebAuthn to set up there is
  // no skip; the deadline still says when the user will be locked out.
  return { kind: 'enroll', forced: true, methods, defaultMethod, deadline: requirement.periodEndsAt, rule: 'R-D5' };
}

/**
 * R-D11: nothing requires MFA, but the user set up a factor, so the factor protects them:
 * a session that has not passed a second factor is challenged. Off only when the org
 * setting says so. Never an enrollment: without a factor there is nothing to ask for.
 */
function ownFactorChallenge(input: DecisionInput, aal: Aal): Decision | null {
  const settings = input.settings;
  if (settings.challengeEnrolled === false || aal >= 2) return null;
  const own = maskOf(input.enrolledMethods) & effectiveMask(settings);
  // NOTE: not isEnrolledMask(): Duo-only settings count everyone as enrolled, but only a
  // factor the user actually has (a Duo factor included) is theirs to be asked for.
  if (own === 0) return null;
  return { kind: 'challenge', methods: methodsOf(own | (settings.duo ? DUO : 0)), rule: 'R-D11' };
}

export function decide(input: DecisionInput): Decision {
  const { session, user } = input;
  if (session === null || user === null) return { kind: 'login', rule: 'R-D1' };
  if (user.state !== 'active') return { kind: 'login', rule: user.state === 'staged' ? 'R-D7' : 'R-D1' };

  const matched = strictestMatch(input, user.groupIds);
  if (matched !== null && matched.action === 'deny') return { kind: 'deny', rule: 'R-D2', policy: matched.ref };

  const aal = aalOf(session.amr);
  const forcedBy = matched !== null && matched.action === 'require_mfa' ? matched : null; // R-C7
  const requirement = input.requirement;
  const individual = requirement !== null && requirement.required === true;
  if (forcedBy === null && !individual) {
    const own = ownFactorChallenge(input, aal);
    if (own !== null) return own;
    return matched !== null ? { kind: 'allow', rule: 'R-D8', policy: matched.ref } : { kind: 'allow', rule: 'R-D8' };
  }

  // A session that already passed a second factor is done, and never sent to enrollment.
  if (aal >= 2) {
    return forcedBy !== null ? { kind: 'allow', rule: 'R-D3', policy: forcedBy.ref } : { kind: 'allow', rule: 'R-D3' };
  }

  const settings = input.settings;
  const setup = setupMask(settings);
  const enrolled = maskOf(input.enrolledMethods) & effectiveMask(settings);
  if (isEnrolledMask(enrolled, settings)) {
    // R-E5: Duo needs no setup here and is always offered at the verify step.
    const methods: Method[] = methodsOf(enrolled | (settings.duo ? DUO : 0));
    return forcedBy !== null
      ? { kind: 'challenge', methods, rule: 'R-D3', policy: forcedBy.ref }
      : { kind: 'challenge', methods, rule: 'R-D3' };
  }

  if (forcedBy !== null) {
    const methods = methodsOf(setup);
    return {
      kind: 'enroll',
      forced: true,
      methods,
      defaultMethod: methods[0]!,
      deadline: null,
      rule: 'R-D4',
      policy: forcedBy.ref,
    };
  }
  // Only an individual requirement is left (forcedBy === null, so `individual` held).
  return individualEnrollment(session, requirement as MfaRequirement, setup, input.now);
}

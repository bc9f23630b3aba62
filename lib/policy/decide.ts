import { aalOf } from './assurance';
import { demandOnLastMatch, policyApplies, strictestMatch } from './criteria';
import { DUO, TOTP, WEBAUTHN, effectiveMask, isEnrolledMask, maskOf, methodsOf, setupMask } from './methods';
import { rememberedOr } from './remember';
import { graceEnrollment } from './grace-decision';
import { periodRunning } from './status';
import { satisfiesStrength } from './strength';
import type { Aal, AuthStrength, CompiledPolicy, Decision, DecisionInput, Method, MfaRequirement } from './types';

/**
 * The gate's verdict (SPEC D), as a pure function: data in, decision out. Every decision
 * names the rule that made it, and the policy when one did.
 */

type Session = NonNullable<DecisionInput['session']>;

/** What every matching require-MFA policy asks of the second factor, together (issue 18). */
interface Demands {
  readonly phishingResistant: boolean;
  /** The smallest N among those that ask, in ms; null when none does. */
  readonly reverifyMs: number | null;
}

const NO_DEMANDS: Demands = Object.freeze({ phishingResistant: false, reverifyMs: null });

/**
 * Issue 18: strictest match picks one policy, but strength and frequency are
 * requirements each matching require-MFA policy adds: the strongest strength and the
 * smallest N among all of them apply, so a second, looser policy on the same resource
 * cannot hide a stricter one (and its priority does not matter). Only called once a
 * require-MFA policy won; returns the shared NO_DEMANDS, allocating nothing, unless some
 * policy asks.
 */
function demandsOf(input: DecisionInput, userGroups: ReadonlySet<string> | readonly string[]): Demands {
  const { policies, resource, request } = input;
  const userGroupsIsArray = Array.isArray(userGroups);
  let phishingResistant = false;
  let reverifyMs: number | null = null;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    if (p.action !== 'require_mfa' || (!p.phishingResistant && p.reverifyMs === null)) continue; // cheap tests first
    if (!policyApplies(p, resource, userGroups, userGroupsIsArray, request, null)) continue;
    if (p.phishingResistant) phishingResistant = true;
    if (p.reverifyMs !== null && (reverifyMs === null || p.reverifyMs < reverifyMs)) reverifyMs = p.reverifyMs;
  }
  return phishingResistant || reverifyMs !== null ? { phishingResistant, reverifyMs } : NO_DEMANDS;
}

/**
 * R-D15: the N days every matching require-MFA policy allows, the smallest; null when one of
 * them does not allow remembering. As for strength and frequency, a second matching policy
 * that does not remember cannot be skipped because the winner does (its priority does not
 * matter). Only called once the winner allows remembering.
 */
function rememberDaysOfAll(input: DecisionInput, userGroups: ReadonlySet<string> | readonly string[]): number | null {
  const { policies, resource, request } = input;
  const userGroupsIsArray = Array.isArray(userGroups);
  let days: number | null = null;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    if (p.action !== 'require_mfa') continue;
    if (!policyApplies(p, resource, userGroups, userGroupsIsArray, request, null)) continue;
    if (p.rememberDays === null) return null;
    if (days === null || p.rememberDays < days) days = p.rememberDays;
  }
  return days;
}

/**
 * Issue 18: a session that passed a second factor, but not one the policies accept (not
 * WebAuthn where phishing-resistant is asked, or older than N minutes), is asked again.
 * Phishing-resistant: WebAuthn only, or a forced WebAuthn setup for a user without a key.
 * Re-verification alone: the usual challenge or setup (secondFactorNeeded()).
 * Returns null when the session satisfies them, or when the aal-1 path should answer.
 */
function strengthDecision(input: DecisionInput, policy: CompiledPolicy, demands: Demands): Decision | null {
  if (!demands.phishingResistant) return null;
  const asked = strengthAsked(demands);
  const settings = input.settings;
  const ref = policy.ref;
  if (!settings.webauthn) {
    // Saving such a policy, or turning WebAuthn off under one, is refused; a damaged row
    // still must not let anyone through on a weaker factor, nor send them to a setup
    // page that cannot offer WebAuthn.
    return { kind: 'deny', rule: 'R-D13', policy: ref };
  }
  if (maskOf(input.enrolledMethods) & WEBAUTHN) {
    return { kind: 'challenge', methods: WEBAUTHN_ONLY.slice(), rule: 'R-D13', policy: ref, ...asked };
  }
  if ((maskOf(input.enrolledMethods) & effectiveMask(settings)) === 0) {
    // R-D16: only a user without any factor; one with another factor steps up now.
    const grace = graceEnrollment(input, (input.user as NonNullable<DecisionInput['user']>).groupIds, (input.session as Session).mfaSkipped, policy, WEBAUTHN_ONLY.slice(), asked);
    if (grace !== null) return grace;
  }
  return {
    kind: 'enroll',
    forced: true,
    methods: WEBAUTHN_ONLY.slice(),
    defaultMethod: 'webauthn',
    deadline: null,
    rule: 'R-D13',
    policy: ref,
    ...asked,
  };
}

const WEBAUTHN_ONLY: readonly Method[] = ['webauthn'];

function strengthAsked(demands: Demands): { strength: AuthStrength; reverifyMinutes?: number } {
  const strength: AuthStrength = demands.phishingResistant ? 'phishing_resistant' : 'any';
  return demands.reverifyMs === null ? { strength } : { strength, reverifyMinutes: demands.reverifyMs / 60_000 };
}

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

  // Issue 18: what the matching require-MFA policies ask of the second factor.
  const demands = forcedBy !== null && demandOnLastMatch() ? demandsOf(input, user.groupIds) : NO_DEMANDS;
  if (demands !== NO_DEMANDS) {
    const satisfied = aal >= 2 && satisfiesStrength(session.amr, demands.phishingResistant, demands.reverifyMs, input.now);
    if (satisfied) return { kind: 'allow', rule: 'R-D3', policy: (forcedBy as CompiledPolicy).ref, ...strengthAsked(demands) };
    const strong = strengthDecision(input, forcedBy as CompiledPolicy, demands);
    if (strong !== null) return strong;
    // Re-verification only: an older second factor counts as none; the aal-1 path below
    // challenges with any allowed method (or sends a user without one to set one up).
    return secondFactorNeeded(input, session, forcedBy, demands, aal);
  }

  // A session that already passed a second factor is done, and never sent to enrollment.
  if (aal >= 2) {
    return forcedBy !== null ? { kind: 'allow', rule: 'R-D3', policy: forcedBy.ref } : { kind: 'allow', rule: 'R-D3' };
  }
  const needed = secondFactorNeeded(input, session, forcedBy, NO_DEMANDS, aal);
  // R-D15, issue 18 part 3: only here, where the winning require-MFA policy and every other
  // matching one ask nothing of the factor's strength or age (those returned above).
  if (forcedBy !== null && forcedBy.rememberDays !== null) {
    return rememberedOr(needed, forcedBy, rememberDaysOfAll(input, user.groupIds), input.rememberedDevice, input.now);
  }
  return needed;
}

/** R-D3, R-D4, R-D5, R-D6: the session needs a second factor (it has none, or none recent enough). */
function secondFactorNeeded(
  input: DecisionInput,
  session: Session,
  forcedBy: CompiledPolicy | null,
  demands: Demands,
  aal: Aal,
): Decision {
  const settings = input.settings;
  const setup = setupMask(settings);
  const enrolled = maskOf(input.enrolledMethods) & effectiveMask(settings);
  // R-D14 names the re-verification of a session that had passed a second factor.
  const rule = aal >= 2 ? 'R-D14' : 'R-D3';
  if (isEnrolledMask(enrolled, settings)) {
    // R-E5: Duo needs no setup here and is always offered at the verify step.
    const methods: Method[] = methodsOf(enrolled | (settings.duo ? DUO : 0));
    if (forcedBy === null) return { kind: 'challenge', methods, rule };
    return demands === NO_DEMANDS
      ? { kind: 'challenge', methods, rule, policy: forcedBy.ref }
      : { kind: 'challenge', methods, rule, policy: forcedBy.ref, ...strengthAsked(demands) };
  }

  if (forcedBy !== null) {
    const methods = methodsOf(setup);
    // R-D16: a running grace window for this policy softens the enrollment (grace-decision.ts).
    const grace = graceEnrollment(input, (input.user as NonNullable<DecisionInput['user']>).groupIds, session.mfaSkipped, forcedBy, methods, demands === NO_DEMANDS ? null : strengthAsked(demands));
    if (grace !== null) return grace;
    const decision: Decision = {
      kind: 'enroll',
      forced: true,
      methods,
      defaultMethod: methods[0]!,
      deadline: null,
      rule: 'R-D4',
      policy: forcedBy.ref,
    };
    return demands === NO_DEMANDS ? decision : { ...decision, ...strengthAsked(demands) };
  }
  // Only an individual requirement is left (forcedBy === null, so `individual` held).
  return individualEnrollment(session, input.requirement as MfaRequirement, setup, input.now);
}

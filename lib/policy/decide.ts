import { aalOf } from './assurance';
import { anyContains, parseIp } from './cidr';
import { DUO, TOTP, WEBAUTHN, effectiveMask, isEnrolledMask, maskOf, methodsOf, setupMask } from './methods';
import { periodRunning } from './status';
import { satisfiesStrength } from './strength';
import type { Aal, AuthStrength, CompiledPolicy, Decision, DecisionInput, Method, MfaRequirement, ParsedIp, PolicyAction } from './types';

/**
 * The gate's verdict (SPEC D), as a pure function: data in, decision out. Every decision
 * names the rule that made it, and the policy when one did.
 */

type Session = NonNullable<DecisionInput['session']>;

// R-C6: deny > require MFA > allow.
const RANK: Readonly<Record<PolicyAction, number>> = { allow: 1, require_mfa: 2, deny: 3 };

/**
 * Whether `a` beats `b`: stricter action, then lower priority, then name, then id.
 * Compared here rather than relying on array order, so callers may concatenate or
 * reorder compiled lists without changing decisions. Names compare by code unit, not
 * locale, so every server agrees.
 */
function precedes(a: CompiledPolicy, b: CompiledPolicy): boolean {
  const ra = RANK[a.action];
  const rb = RANK[b.action];
  if (ra !== rb) return ra > rb;
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.name !== b.name) return a.name < b.name;
  return a.id < b.id;
}

/** Iterates whichever side is cheap to iterate and probes the other; no allocation. */
function inGroups(
  list: readonly string[],
  set: ReadonlySet<string>,
  userGroups: ReadonlySet<string> | readonly string[],
  userGroupsIsArray: boolean,
): boolean {
  if (list.length === 0) return false;
  if (userGroupsIsArray) {
    const groups = userGroups as readonly string[];
    for (let i = 0; i < groups.length; i++) if (set.has(groups[i]!)) return true;
    return false;
  }
  const groups = userGroups as ReadonlySet<string>;
  for (let i = 0; i < list.length; i++) if (groups.has(list[i]!)) return true;
  return false;
}

/**
 * Set by strictestMatch(): whether an enabled require-MFA policy on the resource asks for a
 * strength or a re-verification (issue 18). decide() reads it right after, synchronously,
 * so the common path (no such policy) skips demandsOf()'s second pass without allocating.
 */
let demandOnResource = false;

/** R-C1..R-C6: the strictest enabled policy that applies to this user, resource and request. */
function strictestMatch(input: DecisionInput, userGroups: ReadonlySet<string> | readonly string[]): CompiledPolicy | null {
  const { policies, resource, request } = input;
  const userGroupsIsArray = Array.isArray(userGroups);
  let ip: ParsedIp | null = null;
  let ipParsed = false;
  let best: CompiledPolicy | null = null;
  demandOnResource = false;

  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    if (!p.enabled || !p.resources.has(resource)) continue; // R-C1, R-C4
    if (p.action === 'require_mfa' && (p.phishingResistant || p.reverifyMs !== null)) demandOnResource = true;
    if (best !== null && !precedes(p, best)) continue; // cannot win, skip the work
    if (!appliesTo(p, request, userGroups, userGroupsIsArray)) continue;
    if (p.ipIn !== null || p.ipNotIn !== null) {
      if (!ipParsed) {
        ip = parseIp(request.ip);
        ipParsed = true;
      }
      if (!ipMatches(p, ip)) continue;
    }
    best = p;
  }
  return best;
}

/** R-C2, R-C3 without the IP condition: exclusion, inclusion, OS, browser. */
function appliesTo(
  p: CompiledPolicy,
  request: DecisionInput['request'],
  userGroups: ReadonlySet<string> | readonly string[],
  userGroupsIsArray: boolean,
): boolean {
  if (inGroups(p.excludeGroupList, p.excludeGroups, userGroups, userGroupsIsArray)) return false; // R-C2: exclusion wins
  if (!p.allUsers && !inGroups(p.includeGroupList, p.includeGroups, userGroups, userGroupsIsArray)) return false;
  if (p.osIn !== null && !p.osIn.has(request.os)) return false;
  if (p.browserIn !== null && !p.browserIn.has(request.browser)) return false;
  return true;
}

/** R-C3's IP condition, for a policy that has one. */
function ipMatches(p: CompiledPolicy, ip: ParsedIp | null): boolean {
  if (ip === null) {
    // NOTE: an unreadable address ("unknown" when the server entry could not vouch
    // for it, R-I1) is unknown, not "outside every range". Allow policies grant
    // nothing beyond the default, so for them it is no match; deny and require-MFA
    // policies do match, so a missing address cannot dodge "deny outside the office".
    return p.action !== 'allow';
  }
  if (p.ipIn !== null && !anyContains(p.ipIn, ip)) return false;
  if (p.ipNotIn !== null && anyContains(p.ipNotIn, ip)) return false;
  return true;
}

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
  let ip: ParsedIp | null = null;
  let ipParsed = false;
  let phishingResistant = false;
  let reverifyMs: number | null = null;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    if (p.action !== 'require_mfa' || (!p.phishingResistant && p.reverifyMs === null)) continue; // cheap tests first
    if (!p.enabled || !p.resources.has(resource)) continue;
    if (!appliesTo(p, request, userGroups, userGroupsIsArray)) continue;
    if (p.ipIn !== null || p.ipNotIn !== null) {
      if (!ipParsed) {
        ip = parseIp(request.ip);
        ipParsed = true;
      }
      if (!ipMatches(p, ip)) continue;
    }
    if (p.phishingResistant) phishingResistant = true;
    if (p.reverifyMs !== null && (reverifyMs === null || p.reverifyMs < reverifyMs)) reverifyMs = p.reverifyMs;
  }
  return phishingResistant || reverifyMs !== null ? { phishingResistant, reverifyMs } : NO_DEMANDS;
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
  const demands = forcedBy !== null && demandOnResource ? demandsOf(input, user.groupIds) : NO_DEMANDS;
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
  return secondFactorNeeded(input, session, forcedBy, NO_DEMANDS, aal);
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

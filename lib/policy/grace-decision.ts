import { policyApplies } from './criteria';
import { runningGraceEnd } from './grace';
import type { CompiledPolicy, Decision, DecisionInput, Method, StrengthAsked } from './types';

/**
 * R-D16: a user without a factor, in a running grace window of the require-MFA policy
 * that forces them, is sent to a Set Up they may skip until the window ends, as an
 * individual requirement's period does (R-D5). After the window, R-D4 forces them.
 *
 * Grace softens only enrollment: decide() never asks here for a user who has a factor
 * (they are challenged as today, strength and re-verification included), nor for a deny.
 * Under a phishing-resistant policy a user without any factor gets the same grace, with
 * only WebAuthn to set up (the time to get a security key is what grace is for); a user
 * who has some other factor gets no grace from it (R-D13 forces the step-up at once).
 */

/**
 * The end of the grace that covers this request, or null. NOTE: every require-MFA policy
 * that matches must have a running window for the user, not just the winner: grace from
 * one policy must not soften another that also forces this resource. The earliest end wins.
 * Costs nothing for the many users without windows.
 */
export function graceEndFor(input: DecisionInput, userGroups: ReadonlySet<string> | readonly string[]): number | null {
  const windows = input.graceWindows;
  if (!windows || windows.size === 0) return null;
  const { policies, resource, request, now } = input;
  const isArray = Array.isArray(userGroups);
  let end: number | null = null;
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    if (p.action !== 'require_mfa' || !policyApplies(p, resource, userGroups, isArray, request, null)) continue;
    const ends = runningGraceEnd(windows, p.id, now);
    if (ends === null) return null;
    if (end === null || ends < end) end = ends;
  }
  return end;
}

/** R-D16's decision for a user without a factor, or null when no grace covers the request. */
export function graceEnrollment(
  input: DecisionInput,
  userGroups: ReadonlySet<string> | readonly string[],
  mfaSkipped: boolean,
  forcedBy: CompiledPolicy,
  methods: Method[],
  asked: StrengthAsked | null,
): Decision | null {
  const deadline = graceEndFor(input, userGroups);
  if (deadline === null) return null;
  if (mfaSkipped) return { kind: 'allow', rule: 'R-D16', policy: forcedBy.ref, ...asked };
  return { kind: 'enroll', forced: false, methods, defaultMethod: methods[0]!, deadline, rule: 'R-D16', policy: forcedBy.ref, ...asked };
}

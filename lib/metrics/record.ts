/**
 * What the places that decide outcomes call: one increment each, in memory. Every label
 * value goes through the lists of ./definitions.ts first, so a caller handing in something
 * unexpected adds at most an `other` series, never a new one per value.
 *
 * None of these may throw into the caller: a metric is never a reason to fail a sign-in.
 */
import {
  boundedLabel,
  databaseDialects,
  databaseErrorKinds,
  duoCallOutcomes,
  duoCalls,
  gateDecisionKinds,
  mailOutcomes,
  resourceLabel,
  routeGroups,
  secondFactorMethods,
  secondFactorOutcomes,
  signInOutcomes,
  statusClassOf,
  throttleKinds,
  type DatabaseErrorKind,
  type DuoCall,
  type DuoCallOutcome,
  type GateDecisionKind,
  type MailOutcome,
  type SecondFactorMethod,
  type SignInOutcome,
  type ThrottleKind,
} from './definitions';
import { metrics } from './registry';
import { routeGroupOf } from './route-group';

function safely(record: () => void): void {
  try {
    record();
  } catch {
    // NOTE: a metric that can't be recorded is lost, never the request's outcome.
  }
}

/** A gate decision (entry server, middleware, forward-auth): its kind and the resource it was for (null: none). */
export function countGateDecision(kind: GateDecisionKind, resource: string | null): void {
  safely(() => {
    const m = metrics();
    m.gateDecisions.inc({ kind: boundedLabel(gateDecisionKinds, kind), resource: resourceLabel(resource, m.resources) });
  });
}

export function countSignIn(outcome: SignInOutcome): void {
  safely(() => metrics().signIns.inc({ outcome: boundedLabel(signInOutcomes, outcome) }));
}

/**
 * A second-factor verification that counts each result for /metrics by method: `ok`, the
 * result's reason, or `error` when it threw (rethrown). Same parameters, same result.
 * @example export const verifyTotpSignIn = countedVerification('totp', checkTotpSignIn);
 */
export function countedVerification<A extends unknown[], R extends { ok: true } | { ok: false; reason: string }>(
  method: SecondFactorMethod,
  verify: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    let result: R;
    try {
      result = await verify(...args);
    } catch (err) {
      countSecondFactor(method, 'error');
      throw err;
    }
    countSecondFactor(method, result.ok ? 'ok' : (result as { reason: string }).reason);
    return result;
  };
}

export function countSecondFactor(method: SecondFactorMethod, outcome: string): void {
  safely(() =>
    metrics().secondFactorVerifications.inc({ method: boundedLabel(secondFactorMethods, method), outcome: boundedLabel(secondFactorOutcomes, outcome) }),
  );
}

export function countThrottleBlock(kind: ThrottleKind): void {
  safely(() => metrics().throttleBlocks.inc({ kind: boundedLabel(throttleKinds, kind) }));
}

export function countMailDelivery(outcome: MailOutcome): void {
  safely(() => metrics().mailDeliveries.inc({ outcome: boundedLabel(mailOutcomes, outcome) }));
}

/** A call to Duo and how it went; `duo_up` follows the last one (answered: 1, failed: 0). */
export function countDuoCall(call: DuoCall, outcome: DuoCallOutcome): void {
  safely(() => {
    const m = metrics();
    m.duoCalls.inc({ call: boundedLabel(duoCalls, call), outcome: boundedLabel(duoCallOutcomes, outcome) });
    // A configuration that can't be used says nothing about Duo's own availability.
    if (call !== 'configuration') m.duoUp = outcome === 'error' ? 0 : 1;
  });
}

export function countDatabaseError(dialect: string, kind: DatabaseErrorKind): void {
  safely(() => metrics().databaseErrors.inc({ dialect: boundedLabel(databaseDialects, dialect), kind: boundedLabel(databaseErrorKinds, kind) }));
}

/** One request served by the entry server: its target's route group, status and duration. */
export function observeRequest(target: string, status: number, seconds: number): void {
  safely(() =>
    metrics().requestDuration.observe({ route: boundedLabel(routeGroups, routeGroupOf(target)), status_class: statusClassOf(status) }, seconds),
  );
}

import type { Kysely } from 'kysely';
import type { Database, DialectName } from '../../db';
import type { Clock } from '../clock';
import { loadSession, type LoadedSession, type SessionContext } from '../auth/sessions';
import { decide, type Decision } from '../policy';
import { presentedDevice } from '../auth/remembered-devices';
import { compiledConfig } from './policy-cache';
import { auditDenial } from './denial-audit';
import { decisionInput, type RequestFacts } from './decision-input';

export type { RequestFacts } from './decision-input';

/** A database handle with its dialect: the access facts query differs slightly per dialect. */
export interface AccessDb {
  kysely: Kysely<Database>;
  dialect: DialectName;
}

export interface AccessResult {
  decision: Decision;
  session: SessionContext | null;
  /** The looked-up row behind the session (groups, configuration version), or null. */
  facts: LoadedSession['facts'] | null;
}

export const loginDecision: Decision = { kind: 'login', rule: 'R-D1' };

/**
 * The decision for a loaded session on `resource`. Policies come from the compiled cache
 * (keyed by the configuration version the session lookup brought along); a denial is
 * audited (R-D2).
 */
export async function decideFor(db: AccessDb, loaded: LoadedSession, resource: string, request: RequestFacts, clock: Clock): Promise<Decision> {
  const config = await compiledConfig(db.kysely, loaded.facts.config_version);
  const input = decisionInput(loaded.facts, loaded.session, resource, request, config, clock.now());
  let decision = decide(input);
  // R-D15: the device is looked up (one probe of a unique index) only when the answer would
  // be a challenge under a policy that allows remembering and the request sent a device
  // cookie; every other request pays nothing. decide() runs again with it, so the rules
  // about strength, re-verification and denial stay in one place.
  if (decision.kind === 'challenge' && decision.rememberDays !== undefined && request.deviceToken) {
    const device = await presentedDevice(db.kysely, loaded.session.userId, request.deviceToken, clock);
    if (device !== null) decision = decide({ ...input, rememberedDevice: device });
  }
  if (decision.kind === 'deny') await auditDenial(db.kysely, loaded.session, resource, decision, request.ip, clock); // R-D2
  return decision;
}

/**
 * The one access decision, used by the middleware gate and again by every protected page,
 * route handler and server action (R-D9, through the access context), so the two can never
 * disagree. Needs no Next.js request API: the gate and the benchmarks pass explicit inputs.
 */
export async function evaluateAccess(
  db: AccessDb,
  sessionToken: string | null,
  resource: string,
  request: RequestFacts,
  clock: Clock,
): Promise<AccessResult> {
  const loaded = await loadSession(db, sessionToken, clock);
  if (!loaded) return { decision: loginDecision, session: null, facts: null };
  return { decision: await decideFor(db, loaded, resource, request, clock), session: loaded.session, facts: loaded.facts };
}

/** Where a decision sends the user; null means continue to the resource. */
export function destinationFor(decision: Pick<Decision, 'kind'>, returnTo: string): string | null {
  const back = `returnTo=${encodeURIComponent(returnTo)}`;
  switch (decision.kind) {
    case 'allow':
      return null;
    case 'login':
      return `/login?${back}`;
    case 'challenge':
      return `/mfa/verify?${back}`;
    case 'enroll':
      return `/mfa/setup?${back}`;
    case 'locked':
      return '/mfa/locked';
    case 'deny':
      return '/denied';
  }
}

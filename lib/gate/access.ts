import type { Kysely } from 'kysely';
import type { Database, DialectName } from '../../db';
import { getAccessFacts } from '../../db/queries/access';
import type { Clock } from '../clock';
import { liveSession, type SessionContext } from '../auth/sessions';
import { isWellFormedToken, sessionIdOf } from '../auth/session-token';
import { decide, parseUserAgent, type Decision, type Method, type MfaRequirement } from '../policy';
import { compiledConfig } from './policy-cache';
import { auditDenial } from './denial-audit';

export interface RequestFacts {
  ip: string;
  userAgent: string | null;
}

export interface AccessResult {
  decision: Decision;
  session: SessionContext | null;
}

const loginDecision: Decision = { kind: 'login', rule: 'R-D1' };

function splitList(value: string | null): string[] {
  return value ? value.split(',') : [];
}

/**
 * The one access decision, used by the middleware gate and again by every protected page,
 * route handler and server action (R-D9), so the two can never disagree. One database
 * round trip for the session and its facts; policies come from the compiled cache.
 */
export async function evaluateAccess(
  db: { kysely: Kysely<Database>; dialect: DialectName },
  sessionToken: string | null,
  resource: string,
  request: RequestFacts,
  clock: Clock,
): Promise<AccessResult> {
  if (!isWellFormedToken(sessionToken)) return { decision: loginDecision, session: null };
  const facts = await getAccessFacts(db.kysely, db.dialect, sessionIdOf(sessionToken));
  if (!facts) return { decision: loginDecision, session: null };
  const session = await liveSession(db.kysely, facts, clock);
  if (!session) return { decision: loginDecision, session: null };

  const config = await compiledConfig(db.kysely, facts.config_version);
  const requirement: MfaRequirement | null =
    facts.required === null
      ? null
      : {
          required: facts.required === 1,
          enrollmentDays: facts.enrollment_days ?? 0,
          periodStartsAt: facts.period_starts_at,
          periodEndsAt: facts.period_ends_at,
        };
  const { os, browser } = parseUserAgent(request.userAgent ?? '');
  const decision = decide({
    now: clock.now(),
    resource,
    session: { aal: session.aal, amr: session.amr, mfaSkipped: session.mfaSkipped },
    user: { id: session.userId, state: session.userState, groupIds: splitList(facts.group_ids) },
    requirement,
    enrolledMethods: splitList(facts.factor_types) as Method[],
    settings: config.settings,
    request: { ip: request.ip, os, browser },
    policies: config.policies,
  });
  if (decision.kind === 'deny') await auditDenial(db.kysely, session, resource, decision, request.ip, clock); // R-D2
  return { decision, session };
}

/** Where a decision sends the user; null means continue to the resource. */
export function destinationFor(decision: Decision, returnTo: string): string | null {
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

import type { AccessFactsRow } from '../../db/queries/access';
import type { SessionContext } from '../auth/sessions';
import { parseUserAgent, type CompiledPolicy, type DecisionInput, type Method, type MfaRequirement, type MfaSettings } from '../policy';

/** What the request itself says about where it comes from. */
export interface RequestFacts {
  ip: string;
  userAgent: string | null;
  /** Issue 18 part 3: the remembered-device cookie's value, if the request sent one. */
  deviceToken?: string | null;
}

/** The user's side of a decision: who they are, what is required of them, what they have. */
export interface UserFacts {
  userId: string;
  userState: SessionContext['userState'];
  groupIds: string[];
  requirement: MfaRequirement | null;
  enrolledMethods: Method[];
  /** Issue 18 part 6 (R-D16): grace windows, policy id → end; null when the user has none. */
  graceWindows?: ReadonlyMap<string, number> | null;
}

/** The session's side: what it passed so far. */
export type SessionFacts = Pick<SessionContext, 'amr' | 'mfaSkipped'>;

/** A session that has passed the password and nothing else, as right after sign-in. */
export const freshSignIn: SessionFacts = { amr: [{ method: 'pwd', at: 0 }], mfaSkipped: false };

function splitList(value: string | null): string[] {
  return value ? value.split(',') : [];
}

/** The access facts row's user side, in decide()'s terms. */
export function userFactsOf(row: AccessFactsRow, session: Pick<SessionContext, 'userId' | 'userState'>): UserFacts {
  return {
    userId: session.userId,
    userState: session.userState,
    groupIds: splitList(row.group_ids),
    requirement:
      row.required === null
        ? null
        : {
            required: row.required === 1,
            enrollmentDays: row.enrollment_days ?? 0,
            periodStartsAt: row.period_starts_at,
            periodEndsAt: row.period_ends_at,
          },
    enrolledMethods: splitList(row.factor_types) as Method[],
    graceWindows: graceWindowsOf(row.grace_windows),
  };
}

/**
 * "policyId:endsAt,…" (policy ids are UUIDs: no ':' or ','). NOTE: a pair that does not
 * parse is dropped: no window is the stricter reading (the policy then forces).
 */
export function graceWindowsOf(value: string | null): ReadonlyMap<string, number> | null {
  if (!value) return null;
  const windows = new Map<string, number>();
  for (const pair of value.split(',')) {
    const at = pair.lastIndexOf(':');
    const endsAt = Number(pair.slice(at + 1));
    if (at > 0 && Number.isFinite(endsAt)) windows.set(pair.slice(0, at), endsAt);
  }
  return windows.size > 0 ? windows : null;
}

/** The request as decide() reads it: the address and the families parsed from the user agent. */
export type ClientFacts = DecisionInput['request'];

/**
 * decide()'s input from access facts: the one place that turns what the database says
 * about a user and session into the engine's terms, for the gate, the access context,
 * the factor services' "would MFA still be required" question and the "what if" tool alike.
 */
export function decisionInputOf(
  user: UserFacts,
  session: SessionFacts,
  resource: string,
  client: ClientFacts,
  config: { settings: MfaSettings; policies: CompiledPolicy[] },
  now: number,
): DecisionInput {
  return {
    now,
    resource,
    session: { amr: session.amr, mfaSkipped: session.mfaSkipped },
    user: { id: user.userId, state: user.userState, groupIds: user.groupIds },
    requirement: user.requirement,
    enrolledMethods: user.enrolledMethods,
    settings: config.settings,
    request: { ip: client.ip, os: client.os, browser: client.browser },
    policies: config.policies,
    graceWindows: user.graceWindows ?? null,
  };
}

/** decisionInputOf() for a request as it arrived: the user agent is parsed here. */
export function decisionInputFrom(
  user: UserFacts,
  session: SessionFacts,
  resource: string,
  request: RequestFacts,
  config: { settings: MfaSettings; policies: CompiledPolicy[] },
  now: number,
): DecisionInput {
  const { os, browser } = parseUserAgent(request.userAgent ?? '');
  return decisionInputOf(user, session, resource, { ip: request.ip, os, browser }, config, now);
}

/** decisionInputFrom() straight from the access facts row and its live session. */
export function decisionInput(
  row: AccessFactsRow,
  session: SessionContext,
  resource: string,
  request: RequestFacts,
  config: { settings: MfaSettings; policies: CompiledPolicy[] },
  now: number,
): DecisionInput {
  return decisionInputFrom(userFactsOf(row, session), session, resource, request, config, now);
}

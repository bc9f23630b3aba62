import type { Kysely } from 'kysely';
import type { Database, DialectName } from '../../db';
import { getAccessFacts, type AccessFactsRow } from '../../db/queries/access';
import {
  deleteSession,
  insertSession,
  rotateSessionToSecondFactor,
  touchSession,
  type SessionRow,
  type SessionWithUserRow,
} from '../../db/queries/sessions';
import type { UserRole, UserState } from '../../db/schema';
import { oneHour, oneMinute, type Clock } from '../clock';
import { aalOf, secondFactorAtOf, withMethod, type Aal, type AmrEntry } from '../policy';
import { isWellFormedToken, newSessionToken, sessionIdOf } from './session-token';

export const sessionIdleTimeoutMs = 30 * oneMinute;
export const sessionAbsoluteTimeoutMs = 12 * oneHour;
// NOTE: sliding the idle expiry on every request would make every page view a write.
const touchIntervalMs = oneMinute;

export type AuthMethod = 'pwd' | 'totp' | 'webauthn' | 'duo' | 'recovery';

export interface SessionContext {
  sessionId: string;
  userId: string;
  username: string;
  displayName: string | null;
  email: string | null;
  role: UserRole;
  userState: UserState;
  /** The methods passed and when; the two fields below are derived from it. */
  amr: AmrEntry[];
  /** aalOf(amr): 2 once a second factor was passed. */
  aal: Aal;
  /** secondFactorAtOf(amr): when the last second factor was passed, or null. */
  secondFactorAt: number | null;
  mfaSkipped: boolean;
  createdAt: number;
}

export async function createSession(
  db: Kysely<Database>,
  userId: string,
  client: { ip: string | null; userAgent: string | null },
  clock: Clock,
): Promise<string> {
  const token = newSessionToken();
  const now = clock.now();
  const row: SessionRow = {
    id: sessionIdOf(token),
    user_id: userId,
    created_at: now,
    last_seen_at: now,
    idle_expires_at: now + sessionIdleTimeoutMs,
    absolute_expires_at: now + sessionAbsoluteTimeoutMs,
    amr: JSON.stringify([{ method: 'pwd', at: now }] satisfies AmrEntry[]),
    mfa_skipped: 0,
    client_ip: client.ip,
    user_agent: client.userAgent ? client.userAgent.slice(0, 512) : null,
  };
  await insertSession(db, row);
  return token;
}

/** The subset of a session-with-user row that liveSession() reads. */
export type SessionUserRow = SessionWithUserRow;

/** A live session and the facts its access decisions need, from one round trip. */
export interface LoadedSession {
  session: SessionContext;
  facts: AccessFactsRow;
}

/**
 * The session behind a token with everything an access decision needs about it, or null
 * (no token, unknown, expired, or a user who may not sign in). One round trip: the access
 * facts query is the only way a session is looked up, so the gate, the access context and
 * every other caller see the same row.
 */
export async function loadSession(db: { kysely: Kysely<Database>; dialect: DialectName }, token: unknown, clock: Clock): Promise<LoadedSession | null> {
  if (!isWellFormedToken(token)) return null;
  const facts = await getAccessFacts(db.kysely, db.dialect, sessionIdOf(token));
  if (!facts) return null;
  const session = await liveSession(db.kysely, facts, clock);
  return session ? { session, facts } : null;
}

/**
 * The live session for a token, or null. Checks the row on every call, so sign-out,
 * suspension and revocation apply at the next request; an expired row is deleted.
 */
export async function validateSession(db: { kysely: Kysely<Database>; dialect: DialectName }, token: unknown, clock: Clock): Promise<SessionContext | null> {
  return (await loadSession(db, token, clock))?.session ?? null;
}

/**
 * A looked-up row as a live session, or null when it expired (then deleted) or its user
 * may no longer sign in. Slides the idle expiry at most once a minute.
 */
export async function liveSession(db: Kysely<Database>, row: SessionUserRow, clock: Clock): Promise<SessionContext | null> {
  const now = clock.now();
  if (row.idle_expires_at <= now || row.absolute_expires_at <= now) {
    await deleteSession(db, row.session_id);
    return null;
  }
  if (row.state !== 'active') return null;
  if (now - row.last_seen_at >= touchIntervalMs) {
    await touchSession(db, row.session_id, now, Math.min(now + sessionIdleTimeoutMs, row.absolute_expires_at));
  }
  return {
    sessionId: row.session_id,
    userId: row.user_id,
    username: row.username,
    displayName: row.display_name,
    email: row.email,
    role: row.role,
    userState: row.state,
    ...assuranceOf(parseAmr(row.amr)),
    mfaSkipped: row.mfa_skipped === 1,
    createdAt: row.created_at,
  };
}

/** The session's methods with what they imply. */
export function assuranceOf(amr: AmrEntry[]): Pick<SessionContext, 'amr' | 'aal' | 'secondFactorAt'> {
  return { amr, aal: aalOf(amr), secondFactorAt: secondFactorAtOf(amr) };
}

/**
 * The stored amr column as entries. Anything malformed is left out, which can only lower
 * the derived assurance (fail closed).
 */
export function parseAmr(text: string): AmrEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const entries: AmrEntry[] = [];
  for (const item of value) {
    const { method, at } = (item ?? {}) as { method?: unknown; at?: unknown };
    if (typeof method === 'string' && typeof at === 'number' && Number.isFinite(at)) entries.push({ method, at });
  }
  return entries;
}

/**
 * Records a passed second factor and gives the session a new id in one statement: the
 * old token is dead the moment the new one exists. Returns the new token, or null when
 * the session vanished meanwhile (revoked, signed out).
 */
export async function elevateSession(
  db: Kysely<Database>,
  session: SessionContext,
  method: AuthMethod,
  clock: Clock,
): Promise<string | null> {
  const token = newSessionToken();
  const now = clock.now();
  const ok = await rotateSessionToSecondFactor(db, session.sessionId, sessionIdOf(token), {
    amr: JSON.stringify(withMethod(session.amr, method, now)),
    last_seen_at: now,
    idle_expires_at: Math.min(now + sessionIdleTimeoutMs, session.createdAt + sessionAbsoluteTimeoutMs),
  });
  return ok ? token : null;
}

export async function endSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await deleteSession(db, sessionId);
}

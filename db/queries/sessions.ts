import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionsTable, UserRole, UserState } from '../schema';
import { compiledPerHandle } from '../statement-cache';

export type SessionRow = Selectable<SessionsTable>;

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** The session and user columns every session check reads (db/queries/access.ts adds more). */
export const sessionWithUserColumns = [
  'sessions.id as session_id',
  'sessions.user_id',
  'sessions.created_at',
  'sessions.last_seen_at',
  'sessions.idle_expires_at',
  'sessions.absolute_expires_at',
  'sessions.amr',
  'sessions.mfa_skipped',
  'users.username',
  'users.display_name',
  'users.email',
  'users.state',
  'users.role',
] as const;

/** A row with sessionWithUserColumns: what a session check reads (getAccessFacts returns it, and more). */
export interface SessionWithUserRow {
  session_id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  amr: string;
  mfa_skipped: number;
  username: string;
  display_name: string | null;
  email: string | null;
  state: UserState;
  role: UserRole;
}

export async function touchSession(
  db: Kysely<Database>,
  id: string,
  lastSeenAt: number,
  idleExpiresAt: number,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt })
    .where('id', '=', id)
    .execute();
}

export interface SecondFactorChanges {
  amr: string;
  last_seen_at: number;
  idle_expires_at: number;
}

const rotateToSecondFactorQuery = compiledPerHandle(
  5,
  (db: Kysely<Database>, oldId: string, newId: string, amr: string, lastSeenAt: number, idleExpiresAt: number) =>
    db
      .updateTable('sessions')
      .set({ amr, last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt, id: newId })
      .where('id', '=', oldId),
);

/**
 * Moves a session to a new id (a new token) with a passed second factor's changes, in one
 * statement, so the old token stops working the moment the new one exists. Compiled once
 * per handle (it is on the path of every second-factor sign-in).
 */
export async function rotateSessionToSecondFactor(db: Kysely<Database>, oldId: string, newId: string, changes: SecondFactorChanges): Promise<boolean> {
  const result = await db.executeQuery(
    rotateToSecondFactorQuery(db, oldId, newId, changes.amr, changes.last_seen_at, changes.idle_expires_at),
  );
  return (result.numAffectedRows ?? 0n) > 0n;
}

export async function setSessionFields(
  db: Kysely<Database>,
  id: string,
  changes: Partial<Pick<SessionRow, 'mfa_skipped'>>,
): Promise<void> {
  await db.updateTable('sessions').set(changes).where('id', '=', id).execute();
}

export async function deleteSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function deleteSessionsOfUser(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Every session of the user but `keepId` (a password change keeps the browser that made it). */
export async function deleteOtherSessionsOfUser(db: Kysely<Database>, userId: string, keepId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keepId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteExpiredSessions(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('idle_expires_at', '<=', now), eb('absolute_expires_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The methods this session passed (amr, JSON), read in the caller's transaction (R-E8
 * checks the last second factor where the change is stored). `undefined` when the session is gone.
 */
export async function getSessionAmr(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('sessions').select('amr').where('id', '=', id).executeTakeFirst();
  return row?.amr;
}

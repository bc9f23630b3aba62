import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { Clock } from '../clock';
import { validateSession, type SessionContext } from '../auth/sessions';

export interface RequestFacts {
  ip: string;
  userAgent: string | null;
}

export type AccessResult =
  | { kind: 'login'; rule: string }
  | { kind: 'allow'; rule: string; session: SessionContext };

/**
 * The one access decision, used by the middleware gate and again by every protected page,
 * route handler and server action (R-D9), so the two can never disagree.
 */
export async function evaluateAccess(
  db: Kysely<Database>,
  sessionToken: string | null,
  _resource: string,
  _request: RequestFacts,
  clock: Clock,
): Promise<AccessResult> {
  const session = sessionToken ? await validateSession(db, sessionToken, clock) : null;
  if (!session) return { kind: 'login', rule: 'R-D1' };
  return { kind: 'allow', rule: 'R-D8', session };
}

/** Where a non-allow result sends the user; null means continue. */
export function destinationFor(result: AccessResult, returnTo: string): string | null {
  switch (result.kind) {
    case 'allow':
      return null;
    case 'login':
      return `/login?returnTo=${encodeURIComponent(returnTo)}`;
  }
}

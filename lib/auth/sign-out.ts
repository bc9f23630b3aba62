import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { writeAudit } from '../../db/queries/audit';
import type { Clock } from '../clock';
import { endSession, type SessionContext } from './sessions';

/**
 * Sign-out, the same through every door (the portal's button, next-auth's
 * `POST /api/auth/signout`): the session row ends, so the cookie is worthless even if a
 * copy survives, and the audit log says so. Clearing the cookie is the caller's job.
 */
export async function signOutSession(db: Kysely<Database>, session: SessionContext, client: { ip: string }, clock: Clock): Promise<void> {
  await endSession(db, session.sessionId);
  await writeAudit(db, {
    at: clock.now(),
    actorId: session.userId,
    actorLabel: session.username,
    action: 'auth.signed_out',
    targetType: 'user',
    targetId: session.userId,
    clientIp: client.ip,
  });
}

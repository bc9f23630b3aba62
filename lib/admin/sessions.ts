import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { deleteSessionsOfUser } from '../../db/queries/sessions';
import { getUserById } from '../../db/queries/users';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError } from './errors';

/**
 * Signs a user out everywhere: every session record goes, so each of their browsers is
 * sent to sign in at its next request (sessions are checked against the database on every
 * request). Audited as `user.sessions_revoked` with the count, in one transaction.
 * @throws NotFoundError('user')
 * @example const { revoked } = await revokeUserSessions(db, userId, actor, clock)
 */
export async function revokeUserSessions(
  db: Kysely<Database>,
  userId: string,
  actor: Actor,
  clock: Clock,
): Promise<{ revoked: number }> {
  return db.transaction().execute(async (trx) => {
    const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(trx, userId) : undefined;
    if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    const revoked = await deleteSessionsOfUser(trx, user.id);
    await writeAudit(trx, {
      at: clock.now(),
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.sessions_revoked',
      targetType: 'user',
      targetId: user.id,
      details: { revoked },
      clientIp: actor.clientIp,
    });
    return { revoked };
  });
}

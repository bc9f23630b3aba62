import { forgetAllDevices } from '../auth/remembered-devices';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { deleteFactorRow, factorTypesOfUser, getFactorOfUser } from '../../db/queries/factors';
import { deleteRecoveryCodes } from '../../db/queries/recovery-codes';
import { getUserById } from '../../db/queries/users';
import { enqueueFactorNotice } from '../mail/enqueue';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError } from './errors';
import { invalidateUserCounts } from './user-directory';

/**
 * An admin removes one of a user's factors (a lost phone or key). Unlike the user's own
 * removal (lib/factors/factors.ts) it needs no fresh second factor of the user and may take
 * the last one: the user then follows the rules for someone not enrolled (set up again, or
 * locked out once a period has ended, R-D6). With no factor left the recovery codes go too.
 * The user is emailed (NIST SP 800-63B: notify on every authenticator change).
 * @throws NotFoundError('user') or NotFoundError('factor')
 */
export async function removeUserFactor(
  db: Kysely<Database>,
  userId: string,
  factorId: string,
  actor: Actor,
  clock: Clock,
): Promise<{ type: string; name: string; lastFactor: boolean }> {
  const removed = await db.transaction().execute(async (trx) => {
    const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(trx, userId) : undefined;
    if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    const factor = typeof factorId === 'string' && factorId.length <= 64 ? await getFactorOfUser(trx, user.id, factorId) : undefined;
    // Scoped to the user: a factor id of someone else is "not found" here.
    if (!factor || !(await deleteFactorRow(trx, user.id, factor.id))) throw new NotFoundError('factor', [String(factorId).slice(0, 64)]);
    const remaining = await factorTypesOfUser(trx, user.id);
    const lastFactor = remaining.length === 0;
    if (lastFactor) await deleteRecoveryCodes(trx, user.id);
    const now = clock.now();
    // Issue 18 part 3: removing a factor forgets every remembered device.
    const forgottenDevices = await forgetAllDevices(trx, user.id, now);
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'mfa.factor_removed',
      targetType: 'user',
      targetId: user.id,
      details: { factorId: factor.id, type: factor.type, name: factor.name, lastFactor, byAdmin: true, forgottenDevices },
      clientIp: actor.clientIp,
    });
    await enqueueFactorNotice(trx, {
      userId: user.id,
      kind: 'factor_removed',
      factorType: factor.type,
      factorName: factor.name,
      factorId: factor.id,
      at: now,
    });
    return { type: factor.type, name: factor.name, lastFactor };
  });
  invalidateUserCounts(db);
  return removed;
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { getUserById } from '../../db/queries/users';
import { issuePasswordResetLink } from '../auth/reset-link';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { ConflictError, NotFoundError } from './errors';

export interface PasswordResetSent {
  /** Where the link went: the user's own address, never the admin. */
  sentTo: string;
  expiresAt: number;
}

/**
 * "Send password reset": a single-use link (30 minutes) goes to the user's own email
 * address. The admin never sees the link nor chooses the password (ASVS 6.4.6); the user's
 * current password keeps working until the link is used. A newer link voids the older.
 * Issued, queued and audited (`user.password_reset_sent`) in one transaction.
 * @throws NotFoundError('user')
 * @throws ConflictError when the user has no email address or is not active
 * @example const { sentTo } = await sendPasswordReset(db, userId, actor, clock)
 */
export async function sendPasswordReset(db: Kysely<Database>, userId: string, actor: Actor, clock: Clock): Promise<PasswordResetSent> {
  return db.transaction().execute(async (trx) => {
    const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(trx, userId) : undefined;
    if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    if (user.state !== 'active') {
      throw new ConflictError(`${user.username} is ${user.state}: only an active user can be sent a password reset.`, 'state');
    }
    if (!user.email) throw new ConflictError(`${user.username} has no email address to send a password reset to. Add one first.`, 'email');
    const now = clock.now();
    const { expiresAt } = await issuePasswordResetLink(trx, { userId: user.id, now, createdBy: actor.id, requestedBy: 'admin' });
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.password_reset_sent',
      targetType: 'user',
      targetId: user.id,
      details: { expiresAt },
      clientIp: actor.clientIp,
    });
    return { sentTo: user.email, expiresAt };
  });
}


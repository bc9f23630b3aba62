import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { startInvitation, unsentInvitations } from '../../db/queries/account-tokens';
import { writeAudit } from '../../db/queries/audit';
import { getUserById, type UserRow } from '../../db/queries/users';
import { issueAccountToken } from '../auth/account-tokens';
import type { Clock } from '../clock';
import { invitationValidityMs } from '../config/env';
import { enqueueAccountLink } from '../mail/enqueue';
import type { Actor } from './actor';
import { ConflictError, NotFoundError } from './errors';

/**
 * Invitations: a user created without a password gets a single-use link to set their own
 * (lib/auth/account-tokens.ts; the page is app/account/password). An active user's link is
 * valid from now and mailed at once; a staged user's is stored unstarted and goes out when
 * they are activated (startInvitations, from every activation: lib/admin/user-state.ts).
 * Everything in the caller's transaction, audited there.
 */

export const invitationMessages = {
  hasPassword: 'This user has already set a password. Send a password reset instead.',
  noEmail: 'An invitation needs an email address: add one to the user first.',
  suspended: 'A suspended user cannot be invited. Activate or stage the user first.',
  withPassword: 'Choose either a password or an invitation, not both: an invited user sets their own password.',
} as const;

export interface InvitationIssued {
  /** When the link stops working; null while the user is staged (it starts at activation). */
  expiresAt: number | null;
  /** Whether a message was queued now (an active user with an address). */
  queued: boolean;
}

/** Issues an invitation for `user` (checked by the caller), voiding an older one. */
export async function inviteInTransaction(trx: Kysely<Database>, user: Pick<UserRow, 'id' | 'state'>, actor: Actor, now: number): Promise<InvitationIssued> {
  const expiresAt = user.state === 'active' ? now + invitationValidityMs() : null;
  const { id } = await issueAccountToken(trx, { userId: user.id, purpose: 'invitation', now, expiresAt, createdBy: actor.id });
  if (expiresAt === null) return { expiresAt, queued: false };
  const mail = await enqueueAccountLink(trx, { userId: user.id, kind: 'invitation', tokenId: id, expiresAt, at: now });
  return { expiresAt, queued: mail.status === 'pending' };
}

/**
 * At activation: starts the user's unsent invitation (there is at most one: a newer one voids
 * the older) and queues its message. Returns when the link expires, or null when there was none.
 */
export async function startInvitations(trx: Kysely<Database>, userId: string, now: number): Promise<number | null> {
  let started: number | null = null;
  for (const invitation of await unsentInvitations(trx, userId)) {
    const expiresAt = now + invitationValidityMs();
    if (!(await startInvitation(trx, invitation.id, expiresAt))) continue;
    await enqueueAccountLink(trx, { userId, kind: 'invitation', tokenId: invitation.id, expiresAt, at: now });
    started = expiresAt;
  }
  return started;
}

export type InvitationRefusal = 'hasPassword' | 'noEmail' | 'suspended';

/** Why `user` can't be invited (a key of invitationMessages), or null when they can. */
export function invitationRefusal(user: Pick<UserRow, 'password_hash' | 'email' | 'state'>): InvitationRefusal | null {
  if (user.password_hash !== null) return 'hasPassword';
  if (!user.email) return 'noEmail';
  if (user.state === 'suspended') return 'suspended';
  return null;
}

/**
 * Sends a new invitation to a user who has not set a password yet; the older link stops
 * working. Audited as `user.invitation_resent`.
 * @throws NotFoundError('user'), ConflictError (a password is set; no address; suspended)
 */
export async function resendInvitation(db: Kysely<Database>, userId: string, actor: Actor, clock: Clock): Promise<InvitationIssued> {
  return db.transaction().execute(async (trx) => {
    const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(trx, userId) : undefined;
    if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    const refused = invitationRefusal(user);
    // The field names the refusal (invitationMessages' key), for the console's message.
    if (refused) throw new ConflictError(invitationMessages[refused], refused);
    const now = clock.now();
    const issued = await inviteInTransaction(trx, user, actor, now);
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.invitation_resent',
      targetType: 'user',
      targetId: user.id,
      details: { expiresAt: issued.expiresAt, queued: issued.queued },
      clientIp: actor.clientIp,
    });
    return issued;
  });
}

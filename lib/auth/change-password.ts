import { forgetAllDevices } from './remembered-devices';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { deleteOtherSessionsOfUser } from '../../db/queries/sessions';
import { getUserById, setUserPasswordHash } from '../../db/queries/users';
import type { Clock } from '../clock';
import { enqueuePasswordNotice } from '../mail/enqueue';
import { auditFactorAction, factorActorOf } from '../factors/audit';
import { hasSecondFactor } from '../factors/counting';
import { StepUpRefused, stepUpRefusalIn, stepUpRefusalOf } from '../factors/step-up';
import { hashPassword, maxPasswordLength, verifyTypedPassword } from './password';
import { checkNewPassword, type PasswordRefusal } from './password-policy';
import type { SessionContext } from './sessions';

/**
 * A person changes their own password. R-E8: if they have a second factor, the session must
 * have passed it within the last five minutes, checked in the transaction that stores the
 * new hash, so a password alone can never replace the password.
 *
 * The same transaction ends every other session of the user (whoever knew the old password
 * is signed out at their next request: sessions are read from the database on every request,
 * with no per-process cache) and queues the "your password was changed" notice. The session
 * that made the change stays signed in.
 */

const changeSchema = z.object({
  currentPassword: z.string().min(1).max(maxPasswordLength),
  // The rules (length by the user's factors, the blocklist) are checkNewPassword's, below.
  newPassword: z.string().max(maxPasswordLength, `Use at most ${maxPasswordLength} characters.`),
});

export type ChangePasswordResult =
  | { ok: true }
  | { ok: false; reason: 'invalid' | 'wrong_password' | 'not_fresh' | 'not_verified'; message?: string }
  | { ok: false; reason: 'refused_password'; refusal: PasswordRefusal; message: string };

export async function changeOwnPassword(
  db: Kysely<Database>,
  session: SessionContext,
  input: unknown,
  client: { ip: string | null },
  clock: Clock,
): Promise<ChangePasswordResult> {
  const parsed = changeSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'invalid', message: parsed.error.issues[0]?.message };
  const user = await getUserById(db, session.userId);
  if (!user?.password_hash || !(await verifyTypedPassword(user.password_hash, parsed.data.currentPassword))) {
    return { ok: false, reason: 'wrong_password' };
  }
  // 15 characters while the password is the only factor, 8 with a second one (NIST 800-63B rev 4).
  const checked = checkNewPassword(parsed.data.newPassword, { hasSecondFactor: await hasSecondFactor(db, user.id) });
  if (!checked.ok) return { ok: false, reason: 'refused_password', refusal: checked.reason, message: checked.message };
  // Hashed before the transaction: argon2id should not hold the database.
  const hash = await hashPassword(checked.password);
  try {
    return await db.transaction().execute(async (trx): Promise<ChangePasswordResult> => {
      await setUserPasswordHash(trx, session.userId, hash);
      const refused = await stepUpRefusalIn(trx, session, 'fresh', clock);
      if (refused !== null) throw new StepUpRefused(refused);
      const at = clock.now();
      const endedSessions = await deleteOtherSessionsOfUser(trx, session.userId, session.sessionId);
      // Issue 18 part 3: a new password ends every "don't ask again on this device".
      const forgottenDevices = await forgetAllDevices(trx, session.userId, at);
      await enqueuePasswordNotice(trx, { userId: session.userId, at, how: 'changed' });
      await auditFactorAction(trx, factorActorOf(session, client), at, 'auth.password_changed', { endedSessions, forgottenDevices });
      return { ok: true };
    });
  } catch (err) {
    const refused = stepUpRefusalOf(err);
    if (refused !== null) return { ok: false, reason: refused };
    throw err;
  }
}

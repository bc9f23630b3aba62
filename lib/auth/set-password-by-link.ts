import { forgetAllDevices } from './remembered-devices';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { AccountTokenPurpose } from '../../db/schema';
import { voidOpenAccountTokens } from '../../db/queries/account-tokens';
import { writeAudit } from '../../db/queries/audit';
import { deleteSessionsOfUser } from '../../db/queries/sessions';
import { getUserById, setUserPasswordHash } from '../../db/queries/users';
import type { Clock } from '../clock';
import { hasSecondFactor } from '../factors/counting';
import { enqueuePasswordNotice } from '../mail/enqueue';
import { inspectAccountLink, redeemAccountLink, type AccountLinkState } from './account-tokens';
import { hashPassword, maxPasswordLength } from './password';
import { checkNewPassword, type PasswordRefusal } from './password-policy';
import { createSession } from './sessions';
import { accountKey, resetThrottle } from './throttle';

/**
 * A person sets their password through a link (lib/auth/account-tokens.ts), as a flat guard
 * sequence: parse → link open? → account may sign in? → password rules → hash → one
 * transaction (use the link, store the hash, void the other links, audit, then per purpose).
 *
 * - Invitation: the person is signed in with a new password-only session; the gate then sends
 *   them to Set Up if their requirement or a policy asks (R-B4: their period started at
 *   activation, not here).
 * - Password reset: every session of the user ends, a notice is queued, the account's sign-in
 *   throttle is cleared, and nobody is signed in. They sign in again with the new password,
 *   and the second factor is asked as at any sign-in: a reset never bypasses MFA (ASVS 6.4.3).
 *
 * The rules are checked before the link is used, so a refused password does not spend it.
 * The hash is computed before the transaction: argon2id should not hold the database.
 */

const linkFormSchema = z.object({
  token: z.string().max(64),
  password: z.string().max(maxPasswordLength),
  confirm: z.string().max(maxPasswordLength),
});

export type LinkRefusal = Exclude<AccountLinkState['state'], 'open'>;

export type SetPasswordByLinkResult =
  | { ok: true; purpose: 'invitation'; userId: string; sessionToken: string }
  | { ok: true; purpose: 'password_reset'; userId: string }
  | { ok: false; reason: 'link'; link: LinkRefusal }
  | { ok: false; reason: 'invalid' | 'mismatch' | 'not_allowed' | PasswordRefusal; message: string };

export const setPasswordMessages = {
  invalid: 'Enter the new password twice.',
  mismatch: 'The two passwords differ. Type the same password in both fields.',
  not_allowed: 'This account cannot sign in. Contact your administrator.',
} as const;

/** What the audit log calls each purpose's password change. */
const auditActionOf: Record<AccountTokenPurpose, string> = {
  invitation: 'auth.password_set',
  password_reset: 'auth.password_reset',
};

// A refusal found inside the transaction: thrown to roll it back, caught below. Recognised
// by a marker property, not instanceof (a bundle may hold two copies of a module).
const refusalMarker = 'setPasswordByLinkRefusal';
type Refusal = Extract<SetPasswordByLinkResult, { ok: false }>;
function refuseInside(refusal: Refusal): never {
  throw Object.assign(new Error('set-password-by-link refusal'), { [refusalMarker]: refusal });
}
function refusalOf(err: unknown): Refusal | null {
  return typeof err === 'object' && err !== null && refusalMarker in err ? (err as Record<typeof refusalMarker, Refusal>)[refusalMarker] : null;
}

export async function setPasswordByLink(
  db: Kysely<Database>,
  input: unknown,
  client: { ip: string | null; userAgent: string | null },
  clock: Clock,
): Promise<SetPasswordByLinkResult> {
  const parsed = linkFormSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'invalid', message: setPasswordMessages.invalid };
  const { token, password, confirm } = parsed.data;

  const seen = await inspectAccountLink(db, token, clock.now());
  if (seen.state !== 'open') return { ok: false, reason: 'link', link: seen.state };
  const user = await getUserById(db, seen.userId);
  // R-D7: a suspended or staged account gets no password (and no session) through a link.
  if (!user || user.state !== 'active') return { ok: false, reason: 'not_allowed', message: setPasswordMessages.not_allowed };

  if (password !== confirm) return { ok: false, reason: 'mismatch', message: setPasswordMessages.mismatch };
  const checked = checkNewPassword(password, { hasSecondFactor: await hasSecondFactor(db, user.id) });
  if (!checked.ok) return { ok: false, reason: checked.reason, message: checked.message };
  const hash = await hashPassword(checked.password);

  try {
    return await db.transaction().execute(async (trx): Promise<SetPasswordByLinkResult> => {
      const now = clock.now();
      const used = await redeemAccountLink(trx, token, now);
      if (used.state !== 'open') refuseInside({ ok: false, reason: 'link', link: used.state });
      const owner = await getUserById(trx, used.userId);
      if (!owner || owner.state !== 'active') refuseInside({ ok: false, reason: 'not_allowed', message: setPasswordMessages.not_allowed });
      await setUserPasswordHash(trx, owner.id, hash);
      // Issue 18 part 3: a new password ends every remembered device (a reset means the old one may be known).
      const forgottenDevices = await forgetAllDevices(trx, owner.id, now);
      // Any other link (an older invitation, a reset asked for meanwhile) would set it again.
      await voidOpenAccountTokens(trx, owner.id, 'all', now);
      const audit = { at: now, actorId: owner.id, actorLabel: owner.username, targetType: 'user', targetId: owner.id, clientIp: client.ip };
      await writeAudit(trx, { ...audit, action: auditActionOf[used.purpose], details: { link: used.id, forgottenDevices } });

      if (used.purpose === 'password_reset') {
        const ended = await deleteSessionsOfUser(trx, owner.id);
        await enqueuePasswordNotice(trx, { userId: owner.id, at: now, how: 'reset' });
        await resetThrottle(trx, accountKey(owner.username.toLowerCase()));
        await writeAudit(trx, { ...audit, action: 'user.sessions_revoked', details: { revoked: ended, why: 'password_reset' } });
        return { ok: true, purpose: 'password_reset', userId: owner.id };
      }
      await enqueuePasswordNotice(trx, { userId: owner.id, at: now, how: 'set' });
      const sessionToken = await createSession(trx, owner.id, client, clock);
      await writeAudit(trx, { ...audit, action: 'auth.signed_in', details: { method: 'pwd', via: 'invitation' } });
      return { ok: true, purpose: 'invitation', userId: owner.id, sessionToken };
    });
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) return refusal;
    throw err;
  }
}

/** What the page shows for a link, without using it. */
export async function linkForPage(
  db: Kysely<Database>,
  token: unknown,
  clock: Clock,
): Promise<{ state: 'open'; purpose: AccountTokenPurpose; username: string; hasSecondFactor: boolean; expiresAt: number } | { state: LinkRefusal | 'not_allowed' }> {
  const seen = await inspectAccountLink(db, token, clock.now());
  if (seen.state !== 'open') return { state: seen.state };
  const user = await getUserById(db, seen.userId);
  if (!user || user.state !== 'active') return { state: 'not_allowed' };
  return { state: 'open', purpose: seen.purpose, username: user.username, hasSecondFactor: await hasSecondFactor(db, user.id), expiresAt: seen.expiresAt };
}

import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { enqueueAccountLink } from '../mail/enqueue';
import { issueAccountToken, passwordResetValidityMs } from './account-tokens';

/**
 * Issues a password-reset link (30 minutes; it voids the user's older one) and queues its
 * mail, in the caller's transaction. The one way a reset link is made, whether the person
 * asked ("Forgot password?") or an admin sent it.
 */
export async function issuePasswordResetLink(
  trx: Kysely<Database>,
  input: { userId: string; now: number; createdBy: string | null; requestedBy: 'self' | 'admin' },
): Promise<{ expiresAt: number }> {
  const expiresAt = input.now + passwordResetValidityMs;
  const { id } = await issueAccountToken(trx, { userId: input.userId, purpose: 'password_reset', now: input.now, expiresAt, createdBy: input.createdBy });
  await enqueueAccountLink(trx, { userId: input.userId, kind: 'password_reset', tokenId: id, expiresAt, at: input.now, requestedBy: input.requestedBy });
  return { expiresAt };
}

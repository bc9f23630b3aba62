import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { spendNonce } from '../../db/queries/webauthn';
import type { Clock } from '../clock';
import type { PendingRecoveryCodes, RecoveryCodesCause } from '../auth/pending-setup';
import { nonceHash } from './ceremony';

/**
 * Recovery codes are shown once. They travel in a sealed cookie, and a page cannot delete a
 * cookie, so the cookie alone would show them again on every reload for ten minutes.
 * Instead its random nonce is spent (spent_nonces, any instance) by the first render that
 * shows them: a reload, a second tab or a replayed cookie finds it spent and shows nothing.
 */

export const recoveryCodesShownPurpose = 'recovery-codes-shown';

export interface CodesToShow {
  codes: string[];
  cause: RecoveryCodesCause;
}

/**
 * The codes to show now, or null when there are none or they were shown already. Spending
 * is one conditional insert, so of two parallel renders exactly one shows them.
 */
export async function takeRecoveryCodesToShow(
  db: Kysely<Database>,
  pending: PendingRecoveryCodes | null,
  clock: Clock,
): Promise<CodesToShow | null> {
  if (!pending) return null;
  const first = await spendNonce(
    db,
    { hash: nonceHash(recoveryCodesShownPurpose, pending.nonce), purpose: recoveryCodesShownPurpose, userId: pending.userId, expiresAt: pending.expiresAt },
    clock.now(),
  );
  return first ? { codes: pending.codes, cause: pending.cause } : null;
}

/** What the codes are for, in the words of the factor the person just set up. */
export const recoveryCodesAdvice: Record<RecoveryCodesCause, string> = {
  totp: 'If you lose your phone or your authenticator app, each of these codes lets you sign in once.',
  webauthn: 'If you lose your security key or the device that holds your passkey, each of these codes lets you sign in once.',
  regenerated: 'If you cannot use any of your sign-in methods, each of these codes lets you sign in once. Your previous codes no longer work.',
};

/** The "done" line above the codes. */
export const recoveryCodesDone: Record<RecoveryCodesCause, string> = {
  totp: 'Your authenticator app is set up.',
  webauthn: 'Your security key is set up.',
  regenerated: 'New recovery codes are ready.',
};

/**
 * The `.txt` a person downloads: who and when, the codes one a line, how to use them.
 * @param generatedAt when, as the page shows it
 */
export function recoveryCodesText(username: string, codes: readonly string[], generatedAt: string): string {
  return [
    `Portcullis recovery codes for ${username}`,
    `Made ${generatedAt}. Each code works once; a new set voids these.`,
    '',
    ...codes,
    '',
  ].join('\n');
}

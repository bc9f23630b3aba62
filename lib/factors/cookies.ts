import { cookies } from 'next/headers';
import { systemClock } from '../clock';
import { encodeSessionCookie, sessionCookieName, sessionCookieOptions } from '../auth/cookie';
import {
  openPendingTotp,
  openRecoveryCodes,
  pendingTotpCookie,
  recoveryCodesCookie,
  sealPendingTotp,
  sealRecoveryCodes,
  type PendingRecoveryCodes,
  type PendingTotpSetup,
  type RecoveryCodesCause,
} from '../auth/pending-setup';

/**
 * The factor flow's cookies, for server actions and route handlers (pages may only read).
 * The session cookie is set again whenever a second factor rotated the session id.
 */

export async function setSessionCookie(token: string): Promise<void> {
  (await cookies()).set(sessionCookieName(), await encodeSessionCookie(token), sessionCookieOptions());
}

export async function readPendingTotp(userId: string): Promise<PendingTotpSetup | null> {
  return openPendingTotp((await cookies()).get(pendingTotpCookie.name())?.value, userId, systemClock);
}

export async function writePendingTotp(pending: PendingTotpSetup): Promise<void> {
  (await cookies()).set(pendingTotpCookie.name(), await sealPendingTotp(pending), pendingTotpCookie.options());
}

export async function clearPendingTotp(): Promise<void> {
  (await cookies()).set(pendingTotpCookie.name(), '', { ...pendingTotpCookie.options(), maxAge: 0 });
}

/** The sealed codes as the cookie carries them; showing them once is lib/factors/recovery-codes-display.ts's job. */
export async function readRecoveryCodesToShow(userId: string): Promise<PendingRecoveryCodes | null> {
  return openRecoveryCodes((await cookies()).get(recoveryCodesCookie.name())?.value, userId, systemClock);
}

/**
 * @param cause the factor just set up (the page words its advice for it), or a new set
 */
export async function writeRecoveryCodesToShow(userId: string, codes: string[], cause: RecoveryCodesCause): Promise<void> {
  (await cookies()).set(recoveryCodesCookie.name(), await sealRecoveryCodes(userId, codes, cause, systemClock), recoveryCodesCookie.options());
}

export async function clearRecoveryCodesToShow(): Promise<void> {
  (await cookies()).set(recoveryCodesCookie.name(), '', { ...recoveryCodesCookie.options(), maxAge: 0 });
}

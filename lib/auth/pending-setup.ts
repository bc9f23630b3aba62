import { sealData, unsealData } from 'iron-session';
import { randomUUID } from 'node:crypto';
import { readEnv } from '../config/env';
import { ironPasswords } from '../crypto/iron-passwords';
import { oneMinute, type Clock } from '../clock';
import { isHttpsOrigin } from './cookie';

/**
 * Short-lived sealed cookies of the Set Up flow (iron-session seals: encrypted and
 * authenticated with a key derived from the app secret, never readable by the browser):
 *
 * - the pending TOTP setup: the new secret lives here, not in the database, until the
 *   user types a valid code (R-E6);
 * - the recovery codes to show once after they were made; only hashes are stored.
 *
 * Both are bound to the user and expire after ten minutes.
 */

export const pendingSetupTtlMs = 10 * oneMinute;
const ttlSeconds = pendingSetupTtlMs / 1000;

export interface PendingTotpSetup {
  /** Becomes the factor id, so a double submit cannot store the device twice. */
  id: string;
  userId: string;
  /** Base32 TOTP secret. */
  secret: string;
  /** A factor this device replaces once verified (the old one stays until then). */
  replaces: string | null;
  expiresAt: number;
}

/** Why a set of recovery codes is shown: the first factor of this kind, or a new set. */
export type RecoveryCodesCause = 'totp' | 'webauthn' | 'regenerated';
const recoveryCodesCauses: readonly RecoveryCodesCause[] = ['totp', 'webauthn', 'regenerated'];

export interface PendingRecoveryCodes {
  userId: string;
  codes: string[];
  cause: RecoveryCodesCause;
  /** Random, single-use: showing the codes spends it (lib/factors/recovery-codes-display.ts). */
  nonce: string;
  expiresAt: number;
}

function cookieSecure(): boolean {
  return isHttpsOrigin(readEnv().origin);
}

/** Sealed under the newest app secret, opened under any listed one (secret rotation). */
const passwords = () => ironPasswords('iron-session pending setup v1');

export const pendingTotpCookie = {
  name: () => (cookieSecure() ? '__Secure-portcullis.totp-setup' : 'portcullis.totp-setup'),
  options: () => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: cookieSecure(),
    path: '/mfa/setup/totp',
    maxAge: ttlSeconds,
  }),
};

export const recoveryCodesCookie = {
  name: () => (cookieSecure() ? '__Secure-portcullis.recovery-codes' : 'portcullis.recovery-codes'),
  options: () => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: cookieSecure(),
    path: '/mfa/recovery-codes',
    maxAge: ttlSeconds,
  }),
};

export function newPendingTotpSetup(userId: string, secret: string, replaces: string | null, clock: Clock): PendingTotpSetup {
  return { id: randomUUID(), userId, secret, replaces, expiresAt: clock.now() + pendingSetupTtlMs };
}

export async function sealPendingTotp(pending: PendingTotpSetup): Promise<string> {
  return sealData({ kind: 'totp-setup', ...pending }, { password: passwords().seal, ttl: ttlSeconds });
}

/** The pending setup in a cookie value, if it is genuine, unexpired and this user's; else null. */
export async function openPendingTotp(value: string | undefined, userId: string, clock: Clock): Promise<PendingTotpSetup | null> {
  const data = await unsealSafely(value);
  if (!data || data.kind !== 'totp-setup') return null;
  const { id, userId: owner, secret, replaces, expiresAt } = data as Record<string, unknown>;
  if (typeof id !== 'string' || typeof secret !== 'string' || typeof expiresAt !== 'number') return null;
  if (owner !== userId || expiresAt <= clock.now()) return null;
  if (replaces !== null && typeof replaces !== 'string') return null;
  return { id, userId, secret, replaces, expiresAt };
}

export async function sealRecoveryCodes(userId: string, codes: string[], cause: RecoveryCodesCause, clock: Clock): Promise<string> {
  const data: PendingRecoveryCodes = { userId, codes, cause, nonce: randomUUID(), expiresAt: clock.now() + pendingSetupTtlMs };
  return sealData({ kind: 'recovery-codes', ...data }, { password: passwords().seal, ttl: ttlSeconds });
}

export async function openRecoveryCodes(value: string | undefined, userId: string, clock: Clock): Promise<PendingRecoveryCodes | null> {
  const data = await unsealSafely(value);
  if (!data || data.kind !== 'recovery-codes') return null;
  const { userId: owner, codes, cause, nonce, expiresAt } = data as Record<string, unknown>;
  if (owner !== userId || typeof expiresAt !== 'number' || expiresAt <= clock.now()) return null;
  if (!Array.isArray(codes) || !codes.every((c) => typeof c === 'string')) return null;
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 64) return null;
  if (!recoveryCodesCauses.includes(cause as RecoveryCodesCause)) return null;
  return { userId, codes: codes as string[], cause: cause as RecoveryCodesCause, nonce, expiresAt };
}

async function unsealSafely(value: string | undefined): Promise<Record<string, unknown> | null> {
  if (!value || value.length > 4096) return null;
  try {
    const data = await unsealData<Record<string, unknown>>(value, { password: passwords().open, ttl: ttlSeconds });
    return data && typeof data === 'object' ? data : null;
  } catch {
    return null;
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { sealData, unsealData } from 'iron-session';
import { readEnv } from '../config/env';
import { ironPasswords } from '../crypto/iron-passwords';
import { oneMinute } from '../clock';
import { isHttpsOrigin } from '../auth/cookie';

/**
 * Pending WebAuthn and Duo ceremonies live in sealed iron-session cookies (encrypted and
 * authenticated with a key derived from the app secret; the browser can neither read nor
 * forge them). Each holds a random single-use value (a WebAuthn challenge, a Duo `state`),
 * the session it belongs to and an expiry. Spending the value is recorded in the database
 * (spent_nonces), so a captured cookie cannot be used twice either.
 */

export const webauthnChallengeTtlMs = 5 * oneMinute;
/** Duo's own prompt may take a while (push, phone call); its request JWT lives 5 minutes. */
export const duoStateTtlMs = 10 * oneMinute;
const maxCookieLength = 4096;

export type Ceremony = 'registration' | 'authentication';

export interface PendingWebauthn {
  kind: 'webauthn';
  ceremony: Ceremony;
  /** base64url, as sent in the options. */
  challenge: string;
  /** sessionBinding() of the session that asked for it. */
  binding: string;
  userId: string;
  expiresAt: number;
}

export interface PendingDuo {
  kind: 'duo';
  state: string;
  binding: string;
  userId: string;
  /** Where to continue after Duo, and whether this was a "confirm it's you" check. */
  returnTo: string;
  fresh: boolean;
  /** Issue 18 part 3: "Don't ask again on this device" was ticked on the verify page. */
  remember?: boolean;
  expiresAt: number;
}

/**
 * What ties a pending ceremony to one session: a hash of its id (the id rotates on every
 * second factor, so a ceremony never outlives the session state it was started in).
 */
export function sessionBinding(sessionId: string): string {
  return createHash('sha256').update(`portcullis-ceremony\0${sessionId}`).digest('base64url');
}

export function sameBinding(a: string, sessionId: string): boolean {
  const expected = Buffer.from(sessionBinding(sessionId));
  const given = Buffer.from(a);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The spent_nonces key of a single-use value: the value itself is never stored. */
export function nonceHash(purpose: string, value: string): string {
  return createHash('sha256').update(`portcullis-nonce\0${purpose}\0${value}`).digest('hex');
}

/** Sealed under the newest app secret, opened under any listed one (secret rotation). */
const passwords = () => ironPasswords('iron-session mfa ceremony v1');

function secure(): boolean {
  return isHttpsOrigin(readEnv().origin);
}

function cookieSpec(base: string, path: string, ttlMs: number) {
  return {
    name: () => (secure() ? `__Secure-${base}` : base),
    options: () => ({ httpOnly: true, sameSite: 'lax' as const, secure: secure(), path, maxAge: Math.floor(ttlMs / 1000) }),
    /** Clearing needs the same path it was set with. */
    clearOptions: () => ({ httpOnly: true, sameSite: 'lax' as const, secure: secure(), path, maxAge: 0 }),
  };
}

/** Set by the /mfa/webauthn/* route handlers only. */
export const webauthnCookie = cookieSpec('portcullis.webauthn', '/mfa/webauthn', webauthnChallengeTtlMs);
/** Set by /mfa/duo/start, read and cleared by /mfa/duo/callback. */
export const duoCookie = cookieSpec('portcullis.duo', '/mfa/duo', duoStateTtlMs);

export async function sealPending(pending: PendingWebauthn | PendingDuo): Promise<string> {
  const ttl = pending.kind === 'webauthn' ? webauthnChallengeTtlMs : duoStateTtlMs;
  return sealData(pending, { password: passwords().seal, ttl: Math.floor(ttl / 1000) });
}

async function unseal(value: string | undefined, ttlMs: number): Promise<Record<string, unknown> | null> {
  if (!value || value.length > maxCookieLength) return null;
  try {
    const data = await unsealData<Record<string, unknown>>(value, { password: passwords().open, ttl: Math.floor(ttlMs / 1000) });
    return data && typeof data === 'object' ? data : null;
  } catch {
    return null;
  }
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 2048;

/** A genuine pending WebAuthn ceremony from a cookie value, or null. Expiry and binding are the caller's checks. */
export async function openPendingWebauthn(value: string | undefined): Promise<PendingWebauthn | null> {
  const d = await unseal(value, webauthnChallengeTtlMs);
  if (!d || d.kind !== 'webauthn') return null;
  if (d.ceremony !== 'registration' && d.ceremony !== 'authentication') return null;
  if (!isText(d.challenge) || !isText(d.binding) || !isText(d.userId) || typeof d.expiresAt !== 'number') return null;
  return { kind: 'webauthn', ceremony: d.ceremony, challenge: d.challenge, binding: d.binding, userId: d.userId, expiresAt: d.expiresAt };
}

export async function openPendingDuo(value: string | undefined): Promise<PendingDuo | null> {
  const d = await unseal(value, duoStateTtlMs);
  if (!d || d.kind !== 'duo') return null;
  if (!isText(d.state) || !isText(d.binding) || !isText(d.userId) || !isText(d.returnTo) || typeof d.expiresAt !== 'number') return null;
  return {
    kind: 'duo',
    state: d.state,
    binding: d.binding,
    userId: d.userId,
    returnTo: d.returnTo,
    fresh: d.fresh === true,
    remember: d.remember === true,
    expiresAt: d.expiresAt,
  };
}

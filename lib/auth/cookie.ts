import { decode, encode } from 'next-auth/jwt';
import { appSecret } from '../config/secret';
import { readEnv } from '../config/env';
import { sessionAbsoluteTimeoutMs } from './sessions';
import { systemClock } from '../clock';

/**
 * The session cookie is a next-auth JWT (encrypted, A256GCM) that carries only the session
 * token (`sid`); everything else lives in the session row and is checked every request.
 * Over HTTPS the cookie takes the `__Host-` prefix: Secure, Path=/, no Domain.
 */
export function sessionCookieName(origin = readEnv().origin): string {
  return isHttpsOrigin(origin) ? '__Host-portcullis.session' : 'portcullis.session';
}

export function isHttpsOrigin(origin: string): boolean {
  return origin.startsWith('https://');
}

export function sessionCookieOptions(origin = readEnv().origin) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    secure: isHttpsOrigin(origin),
    maxAge: Math.floor(sessionAbsoluteTimeoutMs / 1000),
  };
}

export async function encodeSessionCookie(token: string): Promise<string> {
  return encode({ token: { sid: token }, secret: appSecret(), maxAge: Math.floor(sessionAbsoluteTimeoutMs / 1000) });
}

const decodedCapacity = 10_000;
const decodedTtlMs = 5 * 60_000;
// NOTE: decoding derives a key (HKDF) and decrypts on every call; the gate and the page
// both decode the same cookie on every request. Only successful decodes are remembered,
// never longer than the JWT's own expiry, and the session row is still checked each time.
const decoded = new Map<string, { sid: string; until: number }>();

/** The session token inside a cookie value, or null for anything forged, expired or malformed. */
export async function decodeSessionCookie(value: string | undefined): Promise<string | null> {
  if (!value || value.length > 4096) return null;
  const now = systemClock.now();
  const hit = decoded.get(value);
  if (hit && hit.until > now) return hit.sid;
  if (hit) decoded.delete(value);
  try {
    const jwt = await decode({ token: value, secret: appSecret() });
    if (typeof jwt?.sid !== 'string') return null;
    const expiresAt = typeof jwt.exp === 'number' ? jwt.exp * 1000 : now;
    if (decoded.size >= decodedCapacity) decoded.delete(decoded.keys().next().value!);
    decoded.set(value, { sid: jwt.sid, until: Math.min(expiresAt, now + decodedTtlMs) });
    return jwt.sid;
  } catch {
    return null;
  }
}

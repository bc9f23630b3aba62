import { decode, encode } from 'next-auth/jwt';
import { appSecret } from '../config/secret';
import { readEnv } from '../config/env';
import { sessionAbsoluteTimeoutMs } from './sessions';

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

/** The session token inside a cookie value, or null for anything forged, expired or malformed. */
export async function decodeSessionCookie(value: string | undefined): Promise<string | null> {
  if (!value || value.length > 4096) return null;
  try {
    const jwt = await decode({ token: value, secret: appSecret() });
    return typeof jwt?.sid === 'string' ? jwt.sid : null;
  } catch {
    return null;
  }
}

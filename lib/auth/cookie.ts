import { createSecretKey, hkdfSync, randomUUID, type KeyObject } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { appSecret } from '../config/secret';
import { readEnv } from '../config/env';
import { sessionAbsoluteTimeoutMs } from './sessions';
import { systemClock } from '../clock';

/**
 * The session cookie is a next-auth JWT (encrypted, A256GCM) that carries only the session
 * token (`sid`); everything else lives in the session row and is checked every request.
 * Over HTTPS the cookie takes the `__Host-` prefix: Secure, Path=/, no Domain.
 *
 * The JWT is exactly what next-auth's `encode()`/`decode()` (next-auth/jwt) make and read:
 * a compact JWE, `{"alg":"dir","enc":"A256GCM"}`, under the key next-auth derives from the
 * secret (HKDF-SHA256, empty salt, info "NextAuth.js Generated Encryption Key", 32 bytes),
 * with `iat`, `exp` and a random `jti`; decoding allows next-auth's 15 s of clock skew.
 * The only difference: next-auth derives that key again on every call, here it is derived
 * once per secret (sessionCookieKey). Both directions go through jose, as next-auth's do.
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

/** next-auth/jwt's getDerivedEncryptionKey() with its default (empty) salt. */
const nextAuthKeyInfo = 'NextAuth.js Generated Encryption Key';
const keyCapacity = 4;
const keys = new Map<string, KeyObject>();

/**
 * The cookie encryption key for `secret`, as next-auth derives it; derived once per secret
 * and kept (a handful of secrets at most: a process has one, tests a few).
 */
export function sessionCookieKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, '', nextAuthKeyInfo, 32)));
    if (keys.size >= keyCapacity) keys.delete(keys.keys().next().value!);
    keys.set(secret, key);
  }
  return key;
}

// NOTE: appSecret() keeps the first secret it finds for the life of the process, but reads
// the environment on every call; this reads it once.
let processSecret: string | undefined;
const currentKey = () => sessionCookieKey((processSecret ??= appSecret()));

const cookieMaxAgeSeconds = Math.floor(sessionAbsoluteTimeoutMs / 1000);
/** next-auth/jwt's decode() tolerance for `exp`/`iat`/`nbf`. */
const clockToleranceSeconds = 15;

/**
 * A new cookie value for a session token: what next-auth's encode() makes (jose's
 * EncryptJWT, "dir" + A256GCM, iat/exp/jti), under the key derived once per secret.
 */
export async function encodeSessionCookie(token: string): Promise<string> {
  const iat = Math.floor(systemClock.now() / 1000);
  return new EncryptJWT({ sid: token })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + cookieMaxAgeSeconds)
    .setJti(randomUUID())
    .encrypt(currentKey());
}

const decodedCapacity = 10_000;
const decodedTtlMs = 5 * 60_000;
// NOTE: the gate and the page both decode the same cookie on every request. Only successful
// decodes are remembered, never longer than the JWT's own expiry, and the session row is
// still checked each time.
const decoded = new Map<string, { sid: string; until: number }>();

/** The session token inside a cookie value, or null for anything forged, expired or malformed. */
export async function decodeSessionCookie(value: string | undefined): Promise<string | null> {
  if (!value || value.length > 4096) return null;
  const now = systemClock.now();
  const hit = decoded.get(value);
  if (hit && hit.until > now) return hit.sid;
  if (hit) decoded.delete(value);
  try {
    const { payload: jwt } = await jwtDecrypt(value, currentKey(), { clockTolerance: clockToleranceSeconds });
    if (typeof jwt.sid !== 'string') return null;
    const expiresAt = typeof jwt.exp === 'number' ? jwt.exp * 1000 : now;
    if (decoded.size >= decodedCapacity) decoded.delete(decoded.keys().next().value!);
    decoded.set(value, { sid: jwt.sid, until: Math.min(expiresAt, now + decodedTtlMs) });
    return jwt.sid;
  } catch {
    return null;
  }
}

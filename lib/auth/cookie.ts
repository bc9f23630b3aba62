import { createCipheriv, createSecretKey, hkdfSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { jwtDecrypt } from 'jose';
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
 * once per secret (sessionCookieKey).
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

/** The JWE protected header, base64url: also the AES-GCM associated data (RFC 7516 §5.1). */
const protectedHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM' })).toString('base64url');
const protectedHeaderAad = Buffer.from(protectedHeader, 'ascii');

/**
 * A new cookie value for a session token: the compact JWE next-auth's encode() makes
 * (`header..iv.ciphertext.tag`, no encrypted key with "dir"), written here with node:crypto
 * so that nothing is derived or re-imported per call. Decoding goes through jose, as
 * next-auth's decode() does.
 */
export async function encodeSessionCookie(token: string): Promise<string> {
  const iat = Math.floor(systemClock.now() / 1000);
  const claims = JSON.stringify({ sid: token, iat, exp: iat + cookieMaxAgeSeconds, jti: randomUUID() });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', currentKey(), iv, { authTagLength: 16 });
  cipher.setAAD(protectedHeaderAad);
  const body = Buffer.concat([cipher.update(claims, 'utf8'), cipher.final()]);
  return `${protectedHeader}..${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
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

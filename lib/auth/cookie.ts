import { createSecretKey, hkdfSync, randomUUID, type KeyObject } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { appSecrets } from '../config/secret';
import { readEnv } from '../config/env';
import { sessionAbsoluteTimeoutMs } from './sessions';
import { systemClock } from '../clock';

/**
 * The session cookie is a next-auth JWT (encrypted, A256GCM) that carries only the session
 * token (`sid`); everything else lives in the session row and is checked every request.
 *
 * Its name and attributes come from one place (sessionCookie()), so setting, reading and
 * clearing can't drift apart: a clear without the Domain the cookie was set with would
 * leave the cookie in place.
 * - Without PORTCULLIS_COOKIE_DOMAIN, over HTTPS: `__Host-portcullis.session` (Secure,
 *   Path=/, no Domain: the portal's host only).
 * - With PORTCULLIS_COOKIE_DOMAIN (e.g. `example.com`): `Domain=example.com`, so protected
 *   subdomains receive it too; `__Host-` forbids a Domain, so over HTTPS the name is
 *   `__Secure-portcullis.session`. Over http both are `portcullis.session`.
 * Always HttpOnly, SameSite=Lax, Path=/, Secure on https.
 *
 * The JWT is exactly what next-auth's `encode()`/`decode()` (next-auth/jwt) make and read:
 * a compact JWE, `{"alg":"dir","enc":"A256GCM"}`, under the key next-auth derives from the
 * secret (HKDF-SHA256, empty salt, info "NextAuth.js Generated Encryption Key", 32 bytes),
 * with `iat`, `exp` and a random `jti`; decoding allows next-auth's 15 s of clock skew.
 * The only difference: next-auth derives that key again on every call, here it is derived
 * once per secret (sessionCookieKey). Both directions go through jose, as next-auth's do.
 */
export interface SessionCookie {
  name: string;
  httpOnly: true;
  sameSite: 'lax';
  path: '/';
  secure: boolean;
  /** The parent domain (PORTCULLIS_COOKIE_DOMAIN), or undefined for a host-only cookie. */
  domain: string | undefined;
  /** Seconds: the session's absolute lifetime. */
  maxAge: number;
}

export class CookieDomainError extends Error {
  override name = 'CookieDomainError';
}

export function isHttpsOrigin(origin: string): boolean {
  return origin.startsWith('https://');
}

const domainLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * PORTCULLIS_COOKIE_DOMAIN checked against the origin: a plain domain name of two labels or
 * more, equal to the origin's host name or a parent of it. A browser would drop a cookie
 * whose Domain doesn't cover the page that sets it, and a single label (`com`) or an IP
 * address would share the session far beyond this deployment, so both stop the server at
 * first use with a message saying why, never a silently host-only or missing cookie.
 *
 * @param domain the configured value (a leading dot is tolerated, as browsers do)
 * @param origin PORTCULLIS_ORIGIN
 * @returns the domain in lower case without a leading dot
 * @throws CookieDomainError
 * @example checkedCookieDomain('example.com', 'https://portal.example.com') // 'example.com'
 */
export function checkedCookieDomain(domain: string, origin: string): string {
  const name = domain.trim().toLowerCase().replace(/^\./, '');
  const say = (why: string) => new CookieDomainError(`PORTCULLIS_COOKIE_DOMAIN "${domain}": ${why}`);
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every((label) => domainLabel.test(label))) {
    throw say('must be a plain domain name such as example.com (no scheme, port, path or wildcard)');
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw say('must be a domain name, not an IP address');
  if (labels.length < 2) throw say('must have at least two labels (a single label like "com" would share the session with every site under it)');
  let host: string;
  try {
    host = new URL(origin).hostname.toLowerCase();
  } catch {
    throw say(`PORTCULLIS_ORIGIN "${origin}" is not a URL`);
  }
  if (host !== name && !host.endsWith(`.${name}`)) {
    throw say(`must be PORTCULLIS_ORIGIN's host name (${host}) or a parent domain of it`);
  }
  return name;
}

/**
 * The session cookie's name and attributes for an origin and cookie domain.
 * @param origin @default PORTCULLIS_ORIGIN (and then PORTCULLIS_COOKIE_DOMAIN with it)
 * @param cookieDomain only with an explicit origin (tests, tools); undefined: host-only
 * @throws CookieDomainError for a cookie domain that doesn't fit the origin
 * @example sessionCookie('https://portal.example.com', 'example.com').name // '__Secure-portcullis.session'
 */
export function sessionCookie(origin?: string, cookieDomain?: string): SessionCookie {
  const env = origin === undefined ? readEnv() : undefined;
  const theOrigin = origin ?? env!.origin;
  const theDomain = origin === undefined ? env!.cookieDomain : cookieDomain;
  const key = `${theOrigin}\n${theDomain ?? ''}`;
  const hit = cookieMemo.get(key);
  if (hit) return hit;
  const secure = isHttpsOrigin(theOrigin);
  const domain = theDomain === undefined ? undefined : checkedCookieDomain(theDomain, theOrigin);
  const name = !secure ? 'portcullis.session' : domain ? '__Secure-portcullis.session' : '__Host-portcullis.session';
  const value: SessionCookie = { name, httpOnly: true, sameSite: 'lax', path: '/', secure, domain, maxAge: cookieMaxAgeSeconds };
  if (cookieMemo.size >= 8) cookieMemo.delete(cookieMemo.keys().next().value!);
  cookieMemo.set(key, value);
  return value;
}
// A process has one configuration; tests a few.
const cookieMemo = new Map<string, SessionCookie>();

/** The session cookie's name (see sessionCookie()). */
export function sessionCookieName(origin?: string, cookieDomain?: string): string {
  return sessionCookie(origin, cookieDomain).name;
}

/** The attributes for Next's `cookies().set(name, value, options)`. */
export function sessionCookieOptions(origin?: string, cookieDomain?: string) {
  const { httpOnly, sameSite, path, secure, domain, maxAge } = sessionCookie(origin, cookieDomain);
  return { httpOnly, sameSite, path, secure, maxAge, ...(domain ? { domain } : {}) };
}

/**
 * A whole `Set-Cookie` header value: the cookie with `value`, or (value null) the one that
 * clears it, with the same Domain and Path so the browser drops the cookie it holds.
 * @example sessionSetCookie(await encodeSessionCookie(token))
 */
export function sessionSetCookie(value: string | null, cookie: SessionCookie = sessionCookie()): string {
  return [
    `${cookie.name}=${value ?? ''}`,
    `Path=${cookie.path}`,
    ...(cookie.domain ? [`Domain=${cookie.domain}`] : []),
    `Max-Age=${value === null ? 0 : cookie.maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(cookie.secure ? ['Secure'] : []),
  ].join('; ');
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

// NOTE: appSecrets() keeps the list it finds first for the life of the process, but reads
// the environment on every call; this reads it once. Newest first: [0] encodes.
let processKeys: readonly KeyObject[] | undefined;
const currentKeys = () => (processKeys ??= appSecrets().map(sessionCookieKey));

const cookieMaxAgeSeconds = Math.floor(sessionAbsoluteTimeoutMs / 1000);
/** next-auth/jwt's decode() tolerance for `exp`/`iat`/`nbf`. */
const clockToleranceSeconds = 15;

/**
 * A new cookie value for a session token: what next-auth's encode() makes (jose's
 * EncryptJWT, "dir" + A256GCM, iat/exp/jti), under the newest secret's key.
 */
export async function encodeSessionCookie(token: string): Promise<string> {
  const iat = Math.floor(systemClock.now() / 1000);
  return new EncryptJWT({ sid: token })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + cookieMaxAgeSeconds)
    .setJti(randomUUID())
    .encrypt(currentKeys()[0]!);
}

const decodedCapacity = 10_000;
const decodedTtlMs = 5 * 60_000;
// NOTE: the gate and the page both decode the same cookie on every request. Only successful
// decodes are remembered, never longer than the JWT's own expiry, and the session row is
// still checked each time.
const decoded = new Map<string, { sid: string; until: number }>();

/**
 * The session token inside a cookie value, or null for anything forged, expired or malformed.
 *
 * Secret rotation: a cookie made under an older listed secret still opens, until it expires
 * or that secret leaves PORTCULLIS_SECRET (which is how an operator signs everyone out). The
 * newest key is tried first, so a cookie made under it (every cookie, once the old ones have
 * expired) costs one decryption as before; an older one costs a failed try per newer key,
 * once per decode cache lifetime. A "dir" JWE names no key, so there is no cheaper way.
 */
export async function decodeSessionCookie(value: string | undefined): Promise<string | null> {
  if (!value || value.length > 4096) return null;
  const now = systemClock.now();
  const hit = decoded.get(value);
  if (hit && hit.until > now) return hit.sid;
  if (hit) decoded.delete(value);
  for (const key of currentKeys()) {
    try {
      const { payload: jwt } = await jwtDecrypt(value, key, { clockTolerance: clockToleranceSeconds });
      if (typeof jwt.sid !== 'string') return null;
      const expiresAt = typeof jwt.exp === 'number' ? jwt.exp * 1000 : now;
      if (decoded.size >= decodedCapacity) decoded.delete(decoded.keys().next().value!);
      decoded.set(value, { sid: jwt.sid, until: Math.min(expiresAt, now + decodedTtlMs) });
      return jwt.sid;
    } catch (err) {
      // Only a failed decryption may mean another key; anything else (malformed, expired:
      // the key was right) is final.
      if ((err as { code?: unknown }).code !== 'ERR_JWE_DECRYPTION_FAILED') return null;
    }
  }
  return null;
}

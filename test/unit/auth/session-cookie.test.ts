import { describe, expect, it } from 'vitest';
import { hkdfSync } from 'node:crypto';
import { decode, encode } from 'next-auth/jwt';

// The app secret is read (and kept) on first use: set it before the module under test runs.
const secret = 'session-cookie-test-secret-0123456789abcdef';
process.env.PORTCULLIS_SECRET = secret;
const { decodeSessionCookie, encodeSessionCookie, sessionCookieKey } = await import('@/lib/auth/cookie');

const token = 'x'.repeat(43);

describe('the session cookie is a next-auth JWT', () => {
  it('a cookie made here opens with next-auth’s own decode(), with iat, exp and a jti', async () => {
    const cookie = await encodeSessionCookie(token);
    const jwt = await decode({ token: cookie, secret });
    expect(jwt).toMatchObject({ sid: token });
    expect((jwt!.exp as number) - (jwt!.iat as number)).toBe(12 * 60 * 60);
    expect(Math.abs((jwt!.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(jwt!.jti).toMatch(/^[0-9a-f-]{36}$/);
    // Compact JWE, "dir" (no encrypted key), A256GCM.
    const [header, encryptedKey, iv, , tag] = cookie.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'dir', enc: 'A256GCM' });
    expect(encryptedKey).toBe('');
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
  });

  it('a cookie made by next-auth’s encode() opens here', async () => {
    const cookie = await encode({ token: { sid: token }, secret, maxAge: 60 });
    expect(await decodeSessionCookie(cookie)).toBe(token);
  });

  it('two cookies for one token differ (fresh IV and jti)', async () => {
    const [a, b] = [await encodeSessionCookie(token), await encodeSessionCookie(token)];
    expect(a).not.toBe(b);
    expect(await decodeSessionCookie(a)).toBe(token);
    expect(await decodeSessionCookie(b)).toBe(token);
  });

  it('refuses a cookie under another secret, a tampered one, an expired one, and junk', async () => {
    const foreign = await encode({ token: { sid: token }, secret: 'another-deployment-secret-0123456789abcdef', maxAge: 60 });
    expect(await decodeSessionCookie(foreign)).toBeNull();

    const cookie = await encodeSessionCookie(token);
    const parts = cookie.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(await decodeSessionCookie(parts.join('.'))).toBeNull();

    // Past next-auth's 15 s of tolerance.
    const expired = await encode({ token: { sid: token }, secret, maxAge: -60 });
    expect(await decodeSessionCookie(expired)).toBeNull();

    for (const junk of ['', 'a.b.c.d.e', 'x'.repeat(5000), undefined]) expect(await decodeSessionCookie(junk)).toBeNull();
  });

  it('derives the key once per secret: the same key object every time, next-auth’s key bytes', () => {
    const key = sessionCookieKey(secret);
    expect(sessionCookieKey(secret)).toBe(key);
    const nextAuthKey = Buffer.from(hkdfSync('sha256', secret, '', 'NextAuth.js Generated Encryption Key', 32));
    expect(key.export().equals(nextAuthKey)).toBe(true);
    const other = sessionCookieKey('another-deployment-secret-0123456789abcdef');
    expect(other).not.toBe(key);
    expect(other.export().equals(nextAuthKey)).toBe(false);
    // Still the first secret's key after another was asked for.
    expect(sessionCookieKey(secret)).toBe(key);
  });
});

import { describe, expect, it } from 'vitest';
import { checkedCookieDomain, sessionCookie, sessionCookieOptions, sessionSetCookie } from '@/lib/auth/cookie';

/*
 * The session cookie's name and attributes (issue 14, section 2): host-only by default,
 * on a parent domain with PORTCULLIS_COOKIE_DOMAIN so protected subdomains receive it.
 * Setting and clearing come from the same attributes, so a clear always hits the cookie.
 */
const twelveHours = 12 * 60 * 60;

describe('the session cookie without a cookie domain (the portal only)', () => {
  it('over https: __Host- prefix, Secure, no Domain', () => {
    expect(sessionCookie('https://portal.example.com')).toEqual({
      name: '__Host-portcullis.session',
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      secure: true,
      domain: undefined,
      maxAge: twelveHours,
    });
    expect(sessionSetCookie('v', sessionCookie('https://portal.example.com'))).toBe(
      `__Host-portcullis.session=v; Path=/; Max-Age=${twelveHours}; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(sessionCookieOptions('https://portal.example.com')).not.toHaveProperty('domain');
  });

  it('over http: portcullis.session, not Secure', () => {
    expect(sessionSetCookie('v', sessionCookie('http://localhost:3000'))).toBe(
      `portcullis.session=v; Path=/; Max-Age=${twelveHours}; HttpOnly; SameSite=Lax`,
    );
  });
});

describe('the session cookie with PORTCULLIS_COOKIE_DOMAIN (protected subdomains too)', () => {
  it('over https: __Secure- prefix (__Host- forbids a Domain), Domain, Secure, HttpOnly, SameSite=Lax', () => {
    const cookie = sessionCookie('https://portal.example.com', 'example.com');
    expect(cookie).toMatchObject({ name: '__Secure-portcullis.session', domain: 'example.com', secure: true, httpOnly: true, sameSite: 'lax' });
    expect(sessionSetCookie('v', cookie)).toBe(
      `__Secure-portcullis.session=v; Path=/; Domain=example.com; Max-Age=${twelveHours}; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(sessionCookieOptions('https://portal.example.com', 'example.com')).toMatchObject({ domain: 'example.com', secure: true });
  });

  it('over http: portcullis.session with the Domain, not Secure', () => {
    const cookie = sessionCookie('http://portal.example.test:3000', 'example.test');
    expect(sessionSetCookie('v', cookie)).toBe(`portcullis.session=v; Path=/; Domain=example.test; Max-Age=${twelveHours}; HttpOnly; SameSite=Lax`);
  });

  it('clearing names the same Domain and Path, with Max-Age=0', () => {
    expect(sessionSetCookie(null, sessionCookie('https://portal.example.com', 'example.com'))).toBe(
      '__Secure-portcullis.session=; Path=/; Domain=example.com; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    );
    expect(sessionSetCookie(null, sessionCookie('https://portal.example.com'))).toBe(
      '__Host-portcullis.session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    );
  });

  it.each([
    ['the origin host itself', 'https://portal.example.com', 'portal.example.com', 'portal.example.com'],
    ['its parent', 'https://portal.example.com', 'example.com', 'example.com'],
    ['a grandparent', 'https://a.portal.example.com', 'example.com', 'example.com'],
    ['upper case and a leading dot, as browsers tolerate', 'https://portal.example.com', '.Example.COM', 'example.com'],
  ])('accepts %s', (_why, origin, domain, expected) => {
    expect(checkedCookieDomain(domain, origin)).toBe(expected);
  });

  it.each([
    ['a single label (a public suffix)', 'com', /at least two labels/],
    ['an IP address', '127.0.0.1', /not an IP address/],
    ['another domain', 'example.org', /parent domain/],
    ['a look-alike suffix', 'ample.com', /parent domain/],
    ['a child of the origin host', 'x.portal.example.com', /parent domain/],
    ['a scheme', 'https://example.com', /plain domain name/],
    ['a port', 'example.com:443', /plain domain name/],
    ['a path', 'example.com/', /plain domain name/],
    ['a wildcard', '*.example.com', /plain domain name/],
    ['an empty label', 'example..com', /plain domain name/],
    ['a space', 'example .com', /plain domain name/],
  ])('refuses %s, saying why', (_why, domain, message) => {
    expect(() => checkedCookieDomain(domain, 'https://portal.example.com')).toThrow(message);
    expect(() => sessionCookie('https://portal.example.com', domain)).toThrow(/PORTCULLIS_COOKIE_DOMAIN/);
  });

  it('refuses any domain for an origin that is an IP address', () => {
    expect(() => checkedCookieDomain('0.0.1', 'http://127.0.0.1:3000')).toThrow(/IP address/);
    expect(() => checkedCookieDomain('localhost', 'http://localhost:3000')).toThrow(/two labels/);
  });
});

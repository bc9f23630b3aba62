import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../../lib/auth/return-path';

const portal = 'https://portal.example';

describe('safeReturnPath: only same-origin relative paths survive', () => {
  it.each([
    ['/portal', '/portal'],
    ['/apps/demo/reports?year=2026#top', '/apps/demo/reports?year=2026#top'],
    ['/portal/security', '/portal/security'],
    ['/portal/./security', '/portal/security'],
    ['/apps/demo/../../portal', '/portal'],
    ['/portal?next=//evil.example', '/portal?next=//evil.example'],
  ])('keeps %s as %s', (input, expected) => {
    expect(safeReturnPath(input)).toBe(expected);
  });

  it.each([
    ['protocol-relative', '//evil.example/x'],
    ['backslash trick', '/\\evil.example'],
    ['backslash later', '/ok\\..\\evil'],
    ['absolute URL', 'https://evil.example/'],
    ['javascript scheme', 'javascript:alert(1)'],
    ['no leading slash', 'portal'],
    ['tab smuggling', '/\t/evil.example'],
    ['newline', '/portal\nSet-Cookie: x'],
    ['sign-in loop', '/login?returnTo=/portal'],
    ['sign-in loop, other case', '/LOGIN'],
    ['next-auth paths', '/api/auth/signin'],
    ['empty', ''],
    ['too long', `/${'a'.repeat(5000)}`],
    // Each of these once came back as //evil.example: an open redirect.
    ['dot segment before //', '/.//evil.example'],
    ['dot-dot before //', '/x/..//evil.example'],
    ['encoded dot before //', '/%2e//evil.example'],
    ['portal, dot-dot, //', '/portal/..//evil.example'],
    ['encoded slashes', '/%2F%2Fevil.example'],
    ['encoded backslash', '/%5Cevil.example'],
    ['double-encoded dot', '/%252e//evil.example'],
    ['encoded control character', '/portal%0d%0aSet-Cookie:x'],
  ])('falls back to /portal for %s', (_name, input) => {
    expect(safeReturnPath(input)).toBe('/portal');
  });

  it.each([[undefined], [null], [42], [['/portal']], [{ path: '/portal' }]])('falls back for non-strings (%j)', (input) => {
    expect(safeReturnPath(input)).toBe('/portal');
  });

  it('never throws on malformed percent-encoding', () => {
    expect(() => safeReturnPath('/%E0%A4%A')).not.toThrow();
  });

  it('takes another fallback', () => {
    expect(safeReturnPath('//evil.example', { fallback: '/admin' })).toBe('/admin');
    expect(safeReturnPath('//evil.example', '/admin')).toBe('/admin');
  });

});

describe('safeReturnPath: absolute return targets on declared hosts (R-D12)', () => {
  // The portal at https://portal.example.test, the wiki declared at app.example.test.
  const https = { origin: 'https://portal.example.test', allowedHosts: ['portal.example.test', 'app.example.test'] };
  const http = { origin: 'http://portal.example.test:3000', allowedHosts: ['portal.example.test', 'app.example.test'] };

  it.each([
    ['https://app.example.test/wiki/page', 'https://app.example.test/wiki/page'],
    ['https://app.example.test/wiki/page?rev=2#top', 'https://app.example.test/wiki/page?rev=2#top'],
    ['https://APP.Example.TEST/wiki', 'https://app.example.test/wiki'],
    ['https://app.example.test', 'https://app.example.test/'],
    ['https://app.example.test:8443/wiki', 'https://app.example.test:8443/wiki'],
    ['https://app.example.test:443/wiki', 'https://app.example.test/wiki'],
    ['https://app.example.test/wiki/./a/../page', 'https://app.example.test/wiki/page'],
    // The host as the browser reads it, written out plainly.
    ['https://app%2eexample%2etest/wiki', 'https://app.example.test/wiki'],
    // On another host /login is that app's page, not a loop into the portal's sign-in.
    ['https://app.example.test/login', 'https://app.example.test/login'],
  ])('keeps %s as %s', (input, expected) => {
    expect(safeReturnPath(input, https)).toBe(expected);
  });

  it("an absolute URL on the portal's own origin becomes its path, with the path rules", () => {
    expect(safeReturnPath('https://portal.example.test/portal/security?x=1', https)).toBe('/portal/security?x=1');
    expect(safeReturnPath('https://portal.example.test/login', https)).toBe('/portal');
    expect(safeReturnPath('https://portal.example.test/api/auth/signout', https)).toBe('/portal');
    expect(safeReturnPath('http://portal.example.test:3000/apps/demo', http)).toBe('/apps/demo');
  });

  it.each([
    ['a host nobody declared', 'https://evil.example/wiki'],
    ['a look-alike: the declared name as a subdomain', 'https://app.example.test.evil.example/wiki'],
    ['a look-alike: the declared name as a suffix', 'https://evilapp.example.test/wiki'],
    ['a sibling subdomain', 'https://evil.example.test/wiki'],
    ['the parent domain', 'https://example.test/'],
    ['a fragment hiding the host', 'https://evil.example#@app.example.test/'],
    ['user info', 'https://user@app.example.test/wiki'],
    ['user info with a password', 'https://user:pw@app.example.test/wiki'],
    ['user info naming the declared host', 'https://app.example.test@evil.example/'],
    ['a backslash after the host', 'https://evil.example\\@app.example.test/'],
    ['a backslash for the slashes', 'https:\\\\app.example.test/'],
    ['http while the portal is https', 'http://app.example.test/wiki'],
    ['no slashes after the scheme', 'https:app.example.test/wiki'],
    ['one slash after the scheme', 'https:/app.example.test/wiki'],
    ['another scheme', 'javascript://app.example.test/%0aalert(1)'],
    ['ftp', 'ftp://app.example.test/'],
    ['a trailing dot on the host', 'https://app.example.test./wiki'],
    ['a tab inside', 'https://app.exam\tple.test/wiki'],
    ['a newline inside', 'https://app.example.test/wi\nki'],
    ['a leading space', ' https://app.example.test/wiki'],
    ['an IP address', 'https://127.0.0.1/wiki'],
    ['an encoded backslash in the path', 'https://app.example.test/%5c%5cevil.example'],
    ['an encoded control character in the path', 'https://app.example.test/wiki%00'],
    ['a malformed encoding', 'https://app.example.test/%E0%A4%A'],
    ['too long', `https://app.example.test/${'a'.repeat(2100)}`],
  ])('refuses %s', (_why, input) => {
    expect(safeReturnPath(input, https)).toBe('/portal');
  });

  it('http targets only when the portal itself is http', () => {
    expect(safeReturnPath('http://app.example.test:5123/wiki/page', http)).toBe('http://app.example.test:5123/wiki/page');
    expect(safeReturnPath('https://app.example.test/wiki', http)).toBe('https://app.example.test/wiki');
    expect(safeReturnPath('http://evil.example.test:5123/wiki/page', http)).toBe('/portal');
    expect(safeReturnPath('http://app.example.test/wiki', https)).toBe('/portal');
  });

  it('without declared hosts no absolute URL survives (the default reads the environment)', () => {
    expect(safeReturnPath('https://apps.example/', { origin: 'https://portal.example.test', allowedHosts: [] })).toBe('/portal');
    // The test environment declares nothing: only the portal's own origin (localhost) is known.
    expect(safeReturnPath('https://apps.example/')).toBe('/portal');
  });

  it('takes another fallback for a refused absolute URL', () => {
    expect(safeReturnPath('https://evil.example/', { ...https, fallback: '/admin' })).toBe('/admin');
  });

  it('whatever the input, the output is a path or a URL on a declared host, and a fixed point', () => {
    const piece = fc.constantFrom('https://', 'http://', 'app.example.test', 'evil.example', '@', '#', '\\', '/', '//', '%2f', '%5c', '%40', ':', '.', '..', ':8443', '?', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 10 }).map((p) => p.join('')), fc.webUrl()), (input) => {
        const out = safeReturnPath(input, https);
        if (!out.startsWith('/')) {
          const url = new URL(out);
          expect(url.hostname).toBe('app.example.test');
          expect(url.protocol).toBe('https:');
          expect(url.username + url.password).toBe('');
        } else {
          expect(out.startsWith('//')).toBe(false);
        }
        expect(safeReturnPath(out, https)).toBe(out);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('safeReturnPath: properties (whatever the input)', () => {
  // Inputs built from the pieces open redirects are made of, plus plain random strings.
  const piece = fc.constantFrom('/', '//', '\\', '.', '..', '%2e', '%2E', '%2f', '%2F', '%5c', '%25', '%', 'evil.example', 'portal', '@', ':', '?', '#', '\t', '\n', ' ', 'https:', 'javascript:', 'x');
  const crafted = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
  const anyInput = fc.oneof(crafted, fc.string(), fc.webUrl(), fc.webPath(), crafted.map((s) => `/${s}`));

  function checkOutput(out: string) {
    expect(out.startsWith('/')).toBe(true);
    expect(out.startsWith('//')).toBe(false);
    expect(out.startsWith('/\\')).toBe(false);
    expect(out).not.toMatch(/[\u0000-\u001f\u007f\\]/);
    expect(new URL(out, portal).origin).toBe(portal);
  }

  it('the output is a same-origin path starting with a single /', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        checkOutput(safeReturnPath(input));
      }),
      { numRuns: 5000 },
    );
  });

  it('the output is a fixed point: passing it again changes nothing', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const out = safeReturnPath(input);
        expect(safeReturnPath(out)).toBe(out);
      }),
      { numRuns: 3000 },
    );
  });

  it('the output stays on the portal after one more round of decoding', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const out = safeReturnPath(input);
        let decoded: string;
        try {
          decoded = decodeURIComponent(new URL(out, portal).pathname);
        } catch {
          return;
        }
        checkOutput(decoded);
      }),
      { numRuns: 3000 },
    );
  });
});

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

  it('keeps absolute https URLs only on allowed hosts (R-D12)', () => {
    expect(safeReturnPath('https://apps.example/reports', { allowedHosts: ['apps.example'] })).toBe('https://apps.example/reports');
    expect(safeReturnPath('https://evil.example/', { allowedHosts: ['apps.example'] })).toBe('/portal');
    expect(safeReturnPath('http://apps.example/', { allowedHosts: ['apps.example'] })).toBe('/portal');
    expect(safeReturnPath('https://user@apps.example/', { allowedHosts: ['apps.example'] })).toBe('/portal');
    expect(safeReturnPath('https://apps.example/')).toBe('/portal');
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

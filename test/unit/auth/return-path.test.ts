import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../../lib/auth/return-path';

describe('safeReturnPath: only same-origin relative paths survive', () => {
  it.each([
    ['/portal', '/portal'],
    ['/apps/demo/reports?year=2026#top', '/apps/demo/reports?year=2026#top'],
    ['/portal/security', '/portal/security'],
  ])('keeps %s', (input, expected) => {
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
    ['empty', ''],
    ['too long', `/${'a'.repeat(5000)}`],
  ])('falls back to /portal for %s', (_name, input) => {
    expect(safeReturnPath(input)).toBe('/portal');
  });

  it.each([[undefined], [null], [42], [['/portal']], [{ path: '/portal' }]])('falls back for non-strings (%j)', (input) => {
    expect(safeReturnPath(input)).toBe('/portal');
  });

  it('never throws on malformed percent-encoding', () => {
    expect(() => safeReturnPath('/%E0%A4%A')).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, newCspNonce } from '../../../lib/http/csp';

function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split('; ').map((d) => { const [name, ...values] = d.split(' '); return [name, values]; }));
}

describe('Content-Security-Policy', () => {
  const nonce = newCspNonce();

  it('scripts run only with this request’s nonce, never unsafe-inline', () => {
    const d = directives(contentSecurityPolicy({ nonce }));
    expect(d.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"]);
    expect(contentSecurityPolicy({ nonce })).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(contentSecurityPolicy({ nonce })).not.toContain('unsafe-eval');
  });

  it('no framing, no base, no plugins, forms only to the portal', () => {
    const d = directives(contentSecurityPolicy({ nonce }));
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('form-action')).toEqual(["'self'"]);
  });

  it('the Duo pages may post to the Duo API host, and only a plain host gets in', () => {
    expect(directives(contentSecurityPolicy({ nonce, formActionHosts: ['API-1234.duosecurity.com'] })).get('form-action')).toEqual([
      "'self'",
      'https://api-1234.duosecurity.com',
    ]);
    expect(directives(contentSecurityPolicy({ nonce, formActionHosts: ["evil.example; script-src 'unsafe-inline'", '*'] })).get('form-action')).toEqual(["'self'"]);
  });

  it('a fresh nonce each time, 16 bytes (122 random bits) of base64; a malformed nonce is refused', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newCspNonce()));
    expect(nonces.size).toBe(100);
    for (const n of nonces) expect(Buffer.from(n, 'base64')).toHaveLength(16);
    expect(() => contentSecurityPolicy({ nonce: "x' 'unsafe-inline" })).toThrow();
  });
});

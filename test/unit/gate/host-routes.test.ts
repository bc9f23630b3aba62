import { describe, expect, it } from 'vitest';
import { matchHostResource, normalizeHost, parseHostRoutes } from '../../../lib/gate/host-routes';
import { buildDeclaredResources, resourceOfUrl } from '../../../lib/gate/declared-resources';

// The README's example deployment: a wiki on its own subdomain, billing under a path of the apex.
const declared = 'app.example.com/=wiki, example.com/billing=billing  reports.example.com:8443/=reports';
const routes = parseHostRoutes(declared);

describe('declaring resources by host and path prefix', () => {
  it('reads host/prefix=resource entries separated by commas or spaces', () => {
    expect(routes).toEqual([
      { host: 'app.example.com', prefix: '/', resource: 'wiki' },
      { host: 'example.com', prefix: '/billing', resource: 'billing' },
      { host: 'reports.example.com:8443', prefix: '/', resource: 'reports' },
    ]);
    expect(parseHostRoutes('App.Example.COM=wiki')).toEqual([{ host: 'app.example.com', prefix: '/', resource: 'wiki' }]);
    expect(parseHostRoutes(undefined)).toEqual([]);
    expect(parseHostRoutes('  ')).toEqual([]);
  });

  it.each([
    ['app.example.com', 'no resource id'],
    ['=wiki', 'no host'],
    ['https://app.example.com/=wiki', 'a scheme'],
    ['user@app.example.com/=wiki', 'user info'],
    ['app.example.com:99999/=wiki', 'a port out of range'],
    ['app.example.com/=Wiki Pages', 'a space in the id'],
    ['app.example.com/%zz=wiki', 'a bad encoding'],
    ['app.example.com/=wiki,app.example.com/=other', 'the same host and prefix twice'],
  ])('refuses %s (%s), naming the entry', (text) => {
    expect(() => parseHostRoutes(text)).toThrow(/PORTCULLIS_RESOURCES/);
  });
});

describe('which resource a request on a host is', () => {
  it.each([
    ['app.example.com', '/', 'wiki'],
    ['app.example.com', '/any/page?x=1'.split('?')[0], 'wiki'],
    ['APP.example.com.', '/Page', 'wiki'],
    ['app.example.com:8080', '/', 'wiki'],
    ['example.com', '/billing', 'billing'],
    ['example.com', '/billing/invoices/7', 'billing'],
    ['example.com', '/BILLING/%2e%2e/billing/x', 'billing'],
    ['reports.example.com:8443', '/q', 'reports'],
  ])('%s%s is %s', (host, path, resource) => {
    expect(matchHostResource(host, path, routes)).toBe(resource);
  });

  it.each([
    ['evil.example', '/', 'a host no resource names'],
    ['example.com', '/', 'a path on a named host that no prefix covers'],
    ['example.com', '/billingx', 'a prefix that only starts the same'],
    ['example.com', '/billing/../admin', 'dot segments that leave the prefix'],
    ['example.com', '/billing/%252e%252e/%252e%252e/admin', 'encoded dot segments that leave the prefix'],
    ['example.com', '/billing/%zz', 'an odd encoding'],
    ['reports.example.com', '/', 'a host declared with a port, asked without it'],
    ['reports.example.com:9000', '/', 'a host declared with a port, asked on another'],
    ['app.example.com@evil.example', '/', 'user info in the host'],
    ['', '/', 'no host'],
  ])('%s%s is no resource (%s)', (host, path) => {
    expect(matchHostResource(host, path, routes)).toBeNull();
  });

  it('normalizes hosts the way requests name them', () => {
    expect(normalizeHost('Portal.Example.Test:3000')).toBe('portal.example.test:3000');
    expect(normalizeHost('[::1]:3000')).toBeNull();
    expect(normalizeHost('a b')).toBeNull();
  });
});

describe('the resources a deployment declares', () => {
  const resources = buildDeclaredResources('https://mfa.example.com', declared);

  it("puts the portal first, then its own paths' ids, then every other id once", () => {
    expect(resources.ids).toEqual(['portal', 'demo', 'wiki', 'billing', 'reports']);
  });

  it('names the portal host and every declared host as return-target hosts', () => {
    expect(resources.returnHosts).toEqual(['mfa.example.com', 'app.example.com', 'example.com', 'reports.example.com']);
    expect(resources.otherHosts).toEqual(['app.example.com', 'example.com', 'reports.example.com:8443']);
  });

  it("resolves the portal's own paths on the portal's host only", () => {
    expect(resourceOfUrl(new URL('https://mfa.example.com/portal/security'), resources)).toBe('portal');
    expect(resourceOfUrl(new URL('https://mfa.example.com/apps/demo'), resources)).toBe('demo');
    expect(resourceOfUrl(new URL('https://app.example.com/portal'), resources)).toBe('wiki');
    expect(resourceOfUrl(new URL('https://example.com/portal'), resources)).toBeNull();
    expect(resourceOfUrl(new URL('https://mfa.example.com/login'), resources)).toBeNull();
  });
});

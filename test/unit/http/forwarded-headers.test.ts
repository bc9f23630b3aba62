import { describe, expect, it } from 'vitest';
import { dropUntrustedForwarding, parseTrustedProxies } from '../../../scripts/client-address.mjs';

// X-Forwarded-Host decides the origin Next.js checks server actions
// against, so it (and its siblings) count only when a trusted proxy set them (R-I1).
function spoofed(): Record<string, string> {
  return {
    host: '127.0.0.1:3000',
    origin: 'http://evil.example',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '443',
    forwarded: 'host=evil.example;proto=https',
    'user-agent': 'mallory',
  };
}

describe('forwarding headers from untrusted peers are dropped', () => {
  it('mallory, talking to a directly exposed server, loses all four', () => {
    const headers = spoofed();
    const dropped = dropUntrustedForwarding(headers, '203.0.113.9', parseTrustedProxies(undefined));
    expect(dropped.sort()).toEqual(['forwarded', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto']);
    expect(headers).toEqual({ host: '127.0.0.1:3000', origin: 'http://evil.example', 'user-agent': 'mallory' });
  });

  it('a peer that is not one of the trusted proxy addresses loses them too', () => {
    const headers = spoofed();
    dropUntrustedForwarding(headers, '203.0.113.9', parseTrustedProxies('10.0.0.5'));
    expect(headers['x-forwarded-host']).toBeUndefined();
    expect(headers.forwarded).toBeUndefined();
  });

  it('the trusted proxy (by address, IPv4-mapped too) keeps them', () => {
    const headers = spoofed();
    expect(dropUntrustedForwarding(headers, '::ffff:10.0.0.5', parseTrustedProxies('10.0.0.5'))).toEqual([]);
    expect(headers['x-forwarded-host']).toBe('evil.example');
  });

  it('a hop count means the peer is the proxy: it keeps them', () => {
    const headers = spoofed();
    dropUntrustedForwarding(headers, '127.0.0.1', parseTrustedProxies('1'));
    expect(headers['x-forwarded-proto']).toBe('https');
  });

  it('a request without them is left alone', () => {
    const headers: Record<string, string> = { host: 'portal.example' };
    expect(dropUntrustedForwarding(headers, '203.0.113.9', parseTrustedProxies(undefined))).toEqual([]);
    expect(headers).toEqual({ host: 'portal.example' });
  });
});

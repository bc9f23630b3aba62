import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from '../../../scripts/client-address.mjs';

describe('client address (R-I1)', () => {
  const direct = parseTrustedProxies(undefined);

  it("a directly exposed server uses the socket peer and ignores the client's X-Forwarded-For", () => {
    expect(clientAddress('203.0.113.9', '10.1.2.3', direct)).toBe('203.0.113.9');
  });

  it('IPv4-mapped peers read as plain IPv4', () => {
    expect(clientAddress('::ffff:203.0.113.9', undefined, direct)).toBe('203.0.113.9');
  });

  it('one trusted hop: the address that proxy appended, not what the client wrote before it', () => {
    const oneHop = parseTrustedProxies('1');
    expect(clientAddress('127.0.0.1', '10.1.2.3, 198.51.100.7', oneHop)).toBe('198.51.100.7');
  });

  it('trusted proxy addresses: walk from the right only through trusted hops', () => {
    const trusted = parseTrustedProxies('127.0.0.1, 10.0.0.5');
    expect(clientAddress('127.0.0.1', '10.1.2.3, 198.51.100.7, 10.0.0.5', trusted)).toBe('198.51.100.7');
  });

  it('an untrusted peer is the client even when trusted proxies are configured', () => {
    const trusted = parseTrustedProxies('10.0.0.5');
    expect(clientAddress('203.0.113.9', '10.1.2.3', trusted)).toBe('203.0.113.9');
  });

  it('garbage in X-Forwarded-For is dropped', () => {
    expect(clientAddress('127.0.0.1', 'not-an-ip, <script>', parseTrustedProxies('1'))).toBe('127.0.0.1');
  });

  it('refuses a nonsensical hop count', () => {
    expect(() => parseTrustedProxies('0')).toThrow();
  });

  it('reads IPv4, IPv6 and IPv4-mapped addresses, in any case, as the socket reports them', () => {
    const trusted = parseTrustedProxies(' 10.0.0.5 ,2001:DB8::1, ::ffff:192.0.2.7 ');
    expect(trusted).toEqual({ kind: 'addresses', addresses: new Set(['10.0.0.5', '2001:db8::1', '192.0.2.7']) });
  });

  // Strict: a list read in half would trust the wrong hops or distrust a real proxy, silently.
  it.each([
    ['10.0.0.5, proxy.internal', /"proxy.internal" is not an IP address/],
    ['10.0.0.0/8', /"10.0.0.0\/8" is not an IP address/],
    ['10.0.0.5,,10.0.0.6', /empty entry/],
    ['10.0.0.5,', /empty entry/],
    ['10.0.0.256', /"10.0.0.256" is not an IP address/],
    ['1.5', /"1.5" is not an IP address/],
    ['11', /hop count must be 1–10/],
  ])('refuses the whole list %j, naming PORTCULLIS_TRUSTED_PROXIES', (value, why) => {
    expect(() => parseTrustedProxies(value)).toThrow(why);
    expect(() => parseTrustedProxies(value)).toThrow(/^PORTCULLIS_TRUSTED_PROXIES/);
  });
});

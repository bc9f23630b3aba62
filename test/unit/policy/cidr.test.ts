import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, isValidCidr, parseCidr, parseIp } from '@/lib/policy';

describe('parseIp', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.1.2.3', 0x0a010203],
    ['255.255.255.255', 0xffffffff],
    ['192.168.0.1', 0xc0a80001],
  ])('IPv4 %s', (text, value) => {
    expect(parseIp(text)).toEqual({ v: 4, value });
  });

  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['2001:db8::', 0x2001_0db8n << 96n],
    ['2001:DB8:0:0:0:0:0:1', (0x2001_0db8n << 96n) | 1n],
    ['2001:db8::1:0:0:1', (0x2001_0db8n << 96n) | (1n << 48n) | 1n],
    ['fe80::1%eth0', (0xfe80n << 112n) | 1n],
    ['64:ff9b::192.0.2.33', (0x64_ff9bn << 96n) | 0xc000_0221n],
    ['1:2:3:4:5:6:7:8', 0x0001_0002_0003_0004_0005_0006_0007_0008n],
    ['1:2:3:4:5:6:1.2.3.4', 0x0001_0002_0003_0004_0005_0006_0102_0304n],
  ])('IPv6 %s', (text, value) => {
    expect(parseIp(text)).toMatchObject({ v: 6, value, mappedV4: null });
  });

  it('recognises IPv4-mapped IPv6 in both spellings', () => {
    expect(parseIp('::ffff:10.1.2.3')).toEqual({ v: 6, value: 0xffff_0a01_0203n, mappedV4: 0x0a010203 });
    expect(parseIp('::FFFF:a01:203')).toEqual({ v: 6, value: 0xffff_0a01_0203n, mappedV4: 0x0a010203 });
  });

  it.each([
    '',
    'unknown',
    ' 10.0.0.1',
    '10.0.0.1 ',
    '10.0.0',
    '10.0.0.1.5',
    '10.0.0.256',
    '010.0.0.1',
    '10.00.0.1',
    '10..0.1',
    '1e1.0.0.1',
    '0x0a.0.0.1',
    '10.0.0.1/8',
    ':::',
    '1:::2',
    '1::2::3',
    ':1',
    '1:',
    '1::2:',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '1::2:3:4:5:6:7:8',
    '12345::',
    'g::1',
    '1.2.3.4::',
    '1.2.3.4::1',
    '::1.2.3',
    '::1.2.3.4:5',
    '[::1]',
    'fe80::1%',
    'fe80::1%eth 0',
    '10.1.2.3, 1.2.3.4',
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 ranges and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ v: 4, prefix: 8, network: 0x0a000000, mask: 0xff000000 });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ v: 4, prefix: 0, network: 0, mask: 0 });
    expect(parseCidr('192.0.2.7')).toMatchObject({ v: 4, prefix: 32, network: 0xc0000207 });
    expect(parseCidr('2001:db8::/32')).toMatchObject({ v: 6, prefix: 32, network: 0x2001_0db8n << 96n });
    expect(parseCidr('::1')).toMatchObject({ v: 6, prefix: 128, network: 1n });
    expect(parseCidr('::/0')).toMatchObject({ v: 6, prefix: 0, network: 0n, mask: 0n });
  });

  it('clears host bits, as firewalls do', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ network: 0x0a000000 });
    expect(parseCidr('2001:db8::1/32')).toMatchObject({ network: 0x2001_0db8n << 96n });
  });

  it('trims surrounding whitespace', () => {
    expect(parseCidr(' 10.0.0.0/8\n')).toMatchObject({ v: 4, prefix: 8 });
  });

  it.each(['', '/8', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0.0/8/8', '10.0.0.0 /8', '10.0.0.0/ 8', '2001:db8::/129', '2001:db8::/1000', 'fe80::%eth0/64', 'unknown', '10.0.0.0/8.0', '10.0.0.0/0x8', '300.0.0.0/8'])(
    'rejects %j with a clear message',
    (text) => {
      expect(() => parseCidr(text)).toThrow(/^Invalid CIDR/);
      expect(isValidCidr(text)).toBe(false);
    },
  );

  it('rejects non-strings', () => {
    expect(() => parseCidr(42 as unknown as string)).toThrow(/Invalid CIDR/);
  });
});

describe('cidrContains', () => {
  it.each([
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.0.0.0/8', '9.255.255.255', false],
    ['192.168.1.0/24', '192.168.1.200', true],
    ['192.168.1.0/24', '192.168.2.1', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['203.0.113.7', '203.0.113.7', true],
    ['203.0.113.7', '203.0.113.8', false],
    ['128.0.0.0/1', '200.1.1.1', true],
    ['128.0.0.0/1', '127.255.255.255', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::', false],
    ['::/0', '::1', true],
    ['::1', '::1', true],
    ['fe80::/10', 'fe80::1%eth0', true],
    // IPv4-mapped: Node reports IPv4 peers on a dual-stack socket this way.
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['10.0.0.0/8', '::ffff:11.1.2.3', false],
    ['0.0.0.0/0', '::ffff:1.2.3.4', true],
    ['::ffff:0:0/96', '10.1.2.3', true],
    ['::ffff:10.0.0.0/104', '10.9.9.9', true],
    ['::ffff:10.0.0.0/104', '11.9.9.9', false],
    // Families do not otherwise cross.
    ['0.0.0.0/0', '::1', false],
    ['0.0.0.0/0', '::10.1.2.3', false],
    ['2001:db8::/32', '10.1.2.3', false],
    ['::/0', '10.1.2.3', true],
    ['10.0.0.0/8', 'unknown', false],
  ])('%s contains %s: %s', (range, ip, expected) => {
    expect(cidrContains(parseCidr(range), ip)).toBe(expected);
  });
});

describe('cidrContains agrees with node:net BlockList (oracle)', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
  const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((w) => w.map((x) => x.toString(16)).join(':'));

  it('IPv4', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, ip) => {
        const list = new BlockList();
        list.addSubnet(net, prefix, 'ipv4');
        expect(cidrContains(parseCidr(`${net}/${prefix}`), ip)).toBe(list.check(ip, 'ipv4'));
      }),
      { numRuns: 500 },
    );
  });

  it('IPv6', () => {
    fc.assert(
      fc.property(v6, fc.integer({ min: 0, max: 128 }), v6, fc.integer({ min: 0, max: 128 }), (net, prefix, other, shared) => {
        // Half the addresses share a prefix with the range so that "inside" is exercised.
        const netWords = net.split(':');
        const ip = other
          .split(':')
          .map((w, i) => (i * 16 < shared ? netWords[i]! : w))
          .join(':');
        const list = new BlockList();
        list.addSubnet(net, prefix, 'ipv6');
        expect(cidrContains(parseCidr(`${net}/${prefix}`), ip)).toBe(list.check(ip, 'ipv6'));
      }),
      { numRuns: 500 },
    );
  });
});

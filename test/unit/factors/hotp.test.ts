import { describe, expect, it, onTestFinished } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';
import { base32Decode, base32Encode, matchTotpStep, stepAt, totpCodeAt } from '@/lib/factors/totp';

/** RFC 4226 section 5.3 on node:crypto: an oracle independent of otplib. */
function referenceHotp(key: Buffer, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  message.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 1_000_000).padStart(6, '0');
}

describe('TOTP codes through otplib', () => {
  it('reproduce RFC 4226 appendix D (the step is the HOTP counter)', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890', 'ascii'));
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, step) => totpCodeAt(secret, step))).toEqual(expected);
  });

  it('reproduce the RFC 6238 SHA-1 vectors (last six of eight digits)', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890', 'ascii'));
    const vectors: [number, string][] = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [seconds, code] of vectors) expect(totpCodeAt(secret, stepAt(seconds * 1000))).toBe(code.slice(2));
  });

  it('equal the reference for random 160-bit secrets and steps, including counters past 2^32', () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(20);
      const step = i < 100 ? 59_000_000 + i : 2 ** 32 + i * 7919;
      expect(totpCodeAt(base32Encode(key), step)).toBe(referenceHotp(key, step));
    }
  });

  it('ignore whatever someone sets on otplib’s shared authenticator', () => {
    authenticator.options = { digits: 8, window: 5, step: 60 };
    onTestFinished(() => authenticator.resetOptions());
    const secret = base32Encode(randomBytes(20));
    const now = Date.UTC(2026, 10, 2, 9, 30, 15);
    const current = stepAt(now);
    expect(totpCodeAt(secret, current)).toBe(referenceHotp(base32Decode(secret), current));
    const twoEarly = referenceHotp(base32Decode(secret), current - 2);
    const collides = [-1, 0, 1].some((o) => referenceHotp(base32Decode(secret), current + o) === twoEarly);
    if (!collides) expect(matchTotpStep(secret, twoEarly, now)).toBeNull();
    expect(matchTotpStep(secret, referenceHotp(base32Decode(secret), current + 1), now)).toBe(current + 1);
  });
});

describe('base32', () => {
  it('keeps every bit of every byte (otplib’s own encoder clears the high bits)', () => {
    const bytes = Buffer.from([0xff, 0x80, 0x7f, 0x00, 0xaa]);
    expect(base32Encode(bytes)).toBe('76AH6AFK');
    expect(base32Decode('76AH6AFK')).toEqual(bytes);
  });

  it('decodes lower case, spaces and padding, and refuses characters outside the alphabet', () => {
    expect(base32Decode('mzxw 6ytb oi======').toString('ascii')).toBe('foobar');
    for (const bad of ['MZ!W6', 'MZXW1', 'MZXW8', 'MZXWÄ']) expect(() => base32Decode(bad)).toThrow('Not base32.');
  });
});

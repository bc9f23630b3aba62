import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { base32Decode, base32Encode, hotpCode, totpCodeAt } from '@/lib/factors/totp';

describe('HOTP on node:crypto (RFC 4226), as matchTotpStep() computes it', () => {
  it('reproduces RFC 4226 appendix D', () => {
    const key = Buffer.from('12345678901234567890', 'ascii');
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotpCode(key, counter))).toEqual(expected);
  });

  it('equals otplib (totpCodeAt) for random secrets and steps, including counters past 2^32', () => {
    for (let i = 0; i < 200; i++) {
      const secret = base32Encode(randomBytes(20));
      const step = i < 100 ? 59_000_000 + i : 2 ** 32 + i * 7919;
      expect(hotpCode(base32Decode(secret), step)).toBe(totpCodeAt(secret, step));
    }
  });
});

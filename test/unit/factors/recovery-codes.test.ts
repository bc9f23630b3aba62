import { describe, expect, it } from 'vitest';
import {
  formatRecoveryCode,
  hashRecoveryCode,
  newRecoveryCode,
  newRecoveryCodeSet,
  normalizeRecoveryCode,
  recoveryCodeCount,
} from '@/lib/factors/recovery-codes';

describe('recovery codes', () => {
  it('a set has ten distinct codes of 16 base32 characters (80 bits), shown as xxxx-xxxx-xxxx-xxxx', () => {
    const { codes, rows } = newRecoveryCodeSet('u1');
    expect(codes).toHaveLength(recoveryCodeCount);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
    // Stored rows hold hashes only.
    expect(rows.map((r) => r.hash)).toEqual(codes.map((c) => hashRecoveryCode('u1', normalizeRecoveryCode(c)!)));
    for (const row of rows) expect(codes.some((c) => row.hash.includes(c.replace(/-/g, '')))).toBe(false);
  });

  it('codes are random: no repeats over many draws, every character of the alphabet appears', () => {
    const many = Array.from({ length: 2000 }, newRecoveryCode);
    expect(new Set(many).size).toBe(many.length);
    const seen = new Set(many.join('').replace(/-/g, ''));
    expect(seen.size).toBe(32);
  });

  it.each([
    ['as shown', 'abcd-efgh-jkmn-pqrs', 'abcdefghjkmnpqrs'],
    ['upper case, spaces', ' ABCD EFGH JKMN PQRS ', 'abcdefghjkmnpqrs'],
    ['no dashes', 'abcdefghjkmnpqrs', 'abcdefghjkmnpqrs'],
    ['o typed for 0, l and i for 1', 'oool-iiii-0000-1111', '0001111100001111'],
  ])('normalizes %s', (_name, input, expected) => {
    expect(normalizeRecoveryCode(input)).toBe(expected);
  });

  it.each([
    ['too short', 'abcd-efgh-jkmn-pqr'],
    ['too long', 'abcd-efgh-jkmn-pqrst'],
    ['a u (not in the alphabet)', 'abcd-efgh-jkmn-pqru'],
    ['punctuation', 'abcd_efgh_jkmn_pqrs'],
    ['full-width letters', 'ａｂｃｄ-efgh-jkmn-pqrs'],
    ['empty', ''],
    ['an array', ['abcd-efgh-jkmn-pqrs']],
    ['an object', { code: 'abcd-efgh-jkmn-pqrs' }],
    ['null', null],
  ])('refuses %s', (_name, input) => {
    expect(normalizeRecoveryCode(input)).toBeNull();
  });

  it('hashes depend on the user: the same code of two users never matches', () => {
    expect(hashRecoveryCode('alice', 'abcdefghjkmnpqrs')).not.toBe(hashRecoveryCode('bob', 'abcdefghjkmnpqrs'));
    expect(hashRecoveryCode('alice', 'abcdefghjkmnpqrs')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('formats normalized codes back for display', () => {
    expect(formatRecoveryCode('abcdefghjkmnpqrs')).toBe('abcd-efgh-jkmn-pqrs');
  });
});

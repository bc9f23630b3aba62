import { describe, expect, it } from 'vitest';
import {
  blocklistedMessage,
  blocklistKey,
  checkNewPassword,
  minPasswordLengthAlone,
  minPasswordLengthWithSecondFactor,
  passwordRefusalMessages,
} from '../../../lib/auth/password-policy';
import { loadPasswordBlocklist, shippedPasswordBlocklist, sortedBlocklist } from '../../../lib/auth/password-blocklist';
import { existingProcessSingleton } from '../../../lib/process-singletons';

/*
 * NIST SP 800-63B rev 4 (3.1.1.2), as Portcullis applies it to a new password. Personas:
 * - Otto has only a password: it is his only factor, so 15 characters.
 * - Tia has a TOTP device: 8 characters are enough.
 * Most cases use a small list, so each one shows a single rule; the shipped list has its own.
 */
const alone = { hasSecondFactor: false, isBlocklisted: () => false };
const withFactor = { hasSecondFactor: true, isBlocklisted: () => false };
const tinyList = sortedBlocklist(Buffer.from(['password123456789', 'qwertyuiop', 'ﬁ-not-a-key'].sort().join('\n') + '\n'));
const refused = (password: string, ctx: { hasSecondFactor: boolean; isBlocklisted?: (key: string) => boolean }) => {
  const result = checkNewPassword(password, ctx);
  return result.ok ? null : result.reason;
};

describe('length: 15 as the only factor, 8 beside a second factor', () => {
  it('Otto needs 15 characters; 14 are refused with a message that says why', () => {
    expect(minPasswordLengthAlone).toBe(15);
    expect(checkNewPassword('fourteen chars', alone)).toEqual({
      ok: false,
      reason: 'too_short',
      message: 'Use at least 15 characters because it is the only thing protecting the account until a second factor is set up.',
    });
    expect(checkNewPassword('my own 15 chars', alone)).toEqual({ ok: true, password: 'my own 15 chars' });
  });

  it('Tia needs 8 characters', () => {
    expect(minPasswordLengthWithSecondFactor).toBe(8);
    expect(refused('seven c', withFactor)).toBe('too_short');
    expect(refused('eight ch', withFactor)).toBeNull();
    expect(refused('eight ch', alone)).toBe('too_short');
  });

  it('counts code points, not UTF-16 units: 8 emoji are 16 units but 8 characters', () => {
    const eight = '🦊🐢🐙🦉🐝🦋🐌🐞';
    expect(eight.length).toBe(16);
    expect(refused(eight, withFactor)).toBeNull();
    expect(refused(eight.slice(0, 14), withFactor)).toBe('too_short'); // 7 emoji, 14 units
    expect(refused(eight + '🦊🐢🐙🦉🐝🦋', alone)).toBe('too_short'); // 14 emoji, 28 units
    expect(refused(eight + '🦊🐢🐙🦉🐝🦋🐌', alone)).toBeNull(); // 15 emoji
  });

  it('accepts any characters: spaces, emoji, scripts other than Latin, no composition rules', () => {
    for (const password of ['all lower case words', '    spaces    around    ', 'пароль из кириллицы', '密码是这个很长的句子不是吗对吧', 'tea 🍵 and biscuits 🍪']) {
      expect(checkNewPassword(password, alone), password).toEqual({ ok: true, password: password.normalize('NFKC') });
    }
  });

  it('accepts 64 characters (the least maximum NIST allows) and up to 1024; refuses beyond, and refuses nothing', () => {
    expect(refused('x'.repeat(63) + 'y', alone)).toBeNull();
    expect(refused('z'.repeat(1024), alone)).toBeNull();
    expect(refused('z'.repeat(1025), alone)).toBe('too_long');
    expect(checkNewPassword('', withFactor)).toMatchObject({ ok: false, reason: 'empty', message: 'Enter a password.' });
  });
});

describe('NFKC: one password however it was typed', () => {
  it('full-width letters become ASCII, and the ASCII form is what gets hashed', () => {
    expect(checkNewPassword('ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓｗｏｒｄ', alone)).toEqual({ ok: true, password: 'full width password' });
  });

  it('the ﬁ ligature becomes "fi", and counts as the two characters it becomes', () => {
    const typed = 'ﬁve ﬁsh'; // 7 code points as typed, 9 after NFKC
    expect([...typed]).toHaveLength(7);
    expect(checkNewPassword(typed, withFactor)).toEqual({ ok: true, password: 'five fish' });
  });

  it('composed and decomposed accents are the same password', () => {
    const composed = 'crème brûlée au café';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(checkNewPassword(decomposed, alone)).toEqual({ ok: true, password: composed });
  });
});

describe('the blocklist', () => {
  it('refuses a listed password whatever its case or width, with a message that says why', () => {
    const ctx = { hasSecondFactor: false, isBlocklisted: (key: string) => tinyList.has(key) };
    for (const password of ['password123456789', 'PassWord123456789', 'ＰＡＳＳＷＯＲＤ123456789']) {
      expect(checkNewPassword(password, ctx), password).toEqual({ ok: false, reason: 'blocklisted', message: blocklistedMessage });
    }
    expect(blocklistedMessage).toBe('This password is on a list of common or breached passwords; choose another.');
    expect(checkNewPassword('password1234567890', ctx)).toMatchObject({ ok: true });
    expect(passwordRefusalMessages.blocklisted).toBe(blocklistedMessage);
  });

  it('is searched with the lowercase NFKC form', () => {
    expect(blocklistKey('ＱｗｅｒｔｙＵＩＯＰ')).toBe('qwertyuiop');
    expect(tinyList.has(blocklistKey('QWERTYuiop'))).toBe(true);
    expect(tinyList.has('qwertyuio')).toBe(false);
    expect(tinyList.has('qwertyuiopp')).toBe(false);
  });

  it('refuses a list that is not sorted by UTF-8 bytes, since the binary search would miss entries', () => {
    expect(() => sortedBlocklist(Buffer.from('zebra\napple\n'))).toThrow(/not sorted/);
  });

  it('the shipped list: hundreds of thousands of entries, loaded once per process, checked by default', () => {
    const list = shippedPasswordBlocklist();
    expect(list.size).toBeGreaterThan(500_000);
    expect(shippedPasswordBlocklist()).toBe(list);
    expect(existingProcessSingleton('password-blocklist')).toBe(list);
    // Breached (SecLists, zxcvbn), Openwall's list, and dictionary words (SCOWL) alike.
    for (const key of ['password123456789', '1qaz2wsx3edc4rfv', 'iloveyou', 'qwertyuiop', 'baseball', 'abandonment', 'alcázars']) {
      expect(list.has(key), key).toBe(true);
    }
    expect(list.has('tea 🍵 and biscuits 🍪')).toBe(false);
    expect(checkNewPassword('Password123456789', { hasSecondFactor: false })).toMatchObject({ ok: false, reason: 'blocklisted' });
    expect(checkNewPassword('BaseBall', { hasSecondFactor: true })).toMatchObject({ ok: false, reason: 'blocklisted' });
    expect(checkNewPassword('tea 🍵 and biscuits 🍪', { hasSecondFactor: false })).toMatchObject({ ok: true });
  });

  it('an unreadable list fails closed: it throws rather than passing a password unchecked', () => {
    expect(() => loadPasswordBlocklist('assets/no-such-list.txt.gz')).toThrow();
    expect(() => checkNewPassword('any long enough password', { hasSecondFactor: false, isBlocklisted: () => { throw new Error('list unavailable'); } })).toThrow(
      'list unavailable',
    );
  });
});

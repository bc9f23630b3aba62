/**
 * The rules a new password must meet (NIST SP 800-63B rev 4, 3.1.1.2). Pure: no I/O.
 * - At least 15 characters when the password is the account's only factor, at least 8 when
 *   the account has a second factor; at most `maxPasswordLength` (≥ 64).
 * - Any characters (spaces, emoji); NFKC-normalised before counting, checking and hashing,
 *   so the same password typed on two keyboards is one password. Length counts code points.
 * - No composition rules, but not on the blocklist of common, breached and dictionary
 *   passwords, compared case-insensitively (lowercase of the NFKC form).
 * The shipped list's file I/O lives in password-blocklist.ts; the rules take any list.
 */
import { maxPasswordLength } from './password';
import { shippedPasswordBlocklist } from './password-blocklist';

export const minPasswordLengthAlone = 15;
export const minPasswordLengthWithSecondFactor = 8;

export interface PasswordContext {
  /** The account has a second factor, so the password is not its only factor. */
  hasSecondFactor: boolean;
  /**
   * Answers whether a blocklist key (see blocklistKey) is listed.
   * @default the shipped list (assets/password-blocklist.txt.gz), loaded on first use
   */
  isBlocklisted?: (key: string) => boolean;
}

export type PasswordCheck = { ok: true; password: string } | { ok: false; reason: PasswordRefusal; message: string };
export type PasswordRefusal = 'too_short' | 'too_long' | 'blocklisted' | 'empty';

/** NFKC, the form stored passwords are hashed in. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** What the blocklist is searched for: the NFKC form, lowercased, so "PassWord123" finds "password123". */
export function blocklistKey(password: string): string {
  return normalizePassword(password).toLowerCase();
}

export const blocklistedMessage = 'This password is on a list of common or breached passwords; choose another.';

/**
 * The refusals' messages where only the reason travels (a redirect's query string) and the
 * account's factors are not at hand to say which length applies.
 */
export const passwordRefusalMessages: Record<PasswordRefusal, string> = {
  empty: 'Enter a password.',
  too_short: `Use at least ${minPasswordLengthAlone} characters, or at least ${minPasswordLengthWithSecondFactor} when the account has a second factor.`,
  too_long: `Use at most ${maxPasswordLength} characters.`,
  blocklisted: blocklistedMessage,
};

export function minPasswordLengthFor(ctx: PasswordContext): number {
  return ctx.hasSecondFactor ? minPasswordLengthWithSecondFactor : minPasswordLengthAlone;
}

/** Checks a new password; on success returns it normalised, ready to hash. */
export function checkNewPassword(password: string, ctx: PasswordContext): PasswordCheck {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  const min = minPasswordLengthFor(ctx);
  if (length === 0) return { ok: false, reason: 'empty', message: 'Enter a password.' };
  if (length < min) {
    const why = ctx.hasSecondFactor ? '' : ' because it is the only thing protecting the account until a second factor is set up';
    return { ok: false, reason: 'too_short', message: `Use at least ${min} characters${why}.` };
  }
  if (length > maxPasswordLength) {
    return { ok: false, reason: 'too_long', message: `Use at most ${maxPasswordLength} characters.` };
  }
  const isBlocklisted = ctx.isBlocklisted ?? ((key: string) => shippedPasswordBlocklist().has(key));
  if (isBlocklisted(normalized.toLowerCase())) return { ok: false, reason: 'blocklisted', message: blocklistedMessage };
  return { ok: true, password: normalized };
}

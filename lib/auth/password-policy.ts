/**
 * The rules a new password must meet (NIST SP 800-63B rev 4, 3.1.1.2). Pure: no I/O.
 * - At least 15 characters when the password is the account's only factor, at least 8 when
 *   the account has a second factor; at most `maxPasswordLength` (≥ 64).
 * - Any characters (spaces, emoji); NFKC-normalised before counting, checking and hashing,
 *   so the same password typed on two keyboards is one password. Length counts code points.
 * - No composition rules. The blocklist check is in password-blocklist.ts (owner: that file).
 */
import { maxPasswordLength } from './password';

export const minPasswordLengthAlone = 15;
export const minPasswordLengthWithSecondFactor = 8;

export interface PasswordContext {
  /** The account has a second factor, so the password is not its only factor. */
  hasSecondFactor: boolean;
}

export type PasswordCheck = { ok: true; password: string } | { ok: false; reason: PasswordRefusal; message: string };
export type PasswordRefusal = 'too_short' | 'too_long' | 'blocklisted' | 'empty';

/** NFKC, the form stored passwords are hashed in. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

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
  return { ok: true, password: normalized };
}

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import { authenticator } from 'otplib';
import type { AuthenticatorOptions } from '@otplib/core';
import QRCode from 'qrcode';
import type { Database } from '../../db';
import {
  claimTotpStep,
  countFactors,
  deleteFactorRow,
  getFactorOfUser,
  getTotpSignInFactors,
  insertTotpFactor,
  type TotpFactorSecret,
} from '../../db/queries/factors';
import { isUniqueViolation } from '../../db/queries/unique-violation';
import { replaceRecoveryCodes } from '../../db/queries/recovery-codes';
import type { Clock } from '../clock';
import { openSecret, sealSecret } from '../crypto/secret-box';
import { elevateSession, type SessionContext } from '../auth/sessions';
import { countedVerification } from '../metrics/record';
import { admitGuess, guessFailed, refundGuess, type GuessCharge } from '../auth/mfa-throttle';
import type { PendingTotpSetup } from '../auth/pending-setup';
import { auditFactorAction, auditSetupAfterRecovery, factorActorOf, type FactorActor } from './audit';
import { stepUpRefusalIn } from './step-up';
import { newRecoveryCodeSet } from './recovery-codes';
import { enqueueFactorNotice } from '../mail/enqueue';
import { log } from '../log';
import { invalidateUserCounts } from '../admin/user-counts';

/**
 * TOTP (RFC 6238) as authenticator apps expect it: HMAC-SHA-1, 6 digits, 30-second steps,
 * secrets of 160 random bits in base32. Codes one step early or late are accepted; each
 * step signs a factor in at most once (R-I3).
 */

export const totpIssuer = 'Portcullis';
export const totpStepSeconds = 30;
export const totpDigits = 6;
/** Steps accepted either side of the current one. */
export const totpWindowSteps = 1;
/** 20 bytes = 160 bits, RFC 4226's recommended length. */
export const totpSecretBytes = 20;
export const defaultTotpName = 'Authenticator app';
export const maxFactorNameLength = 64;

const stepMs = totpStepSeconds * 1000;

/**
 * Our own instance: otplib's `authenticator` is a module-wide singleton whose options anyone
 * may set, and clone() would carry those over; resetOptions() leaves only the preset's
 * plugins and ours. Nothing else holds this one, and every check clones it with its epoch.
 */
const otp = authenticator.clone({
  algorithm: 'sha1' as AuthenticatorOptions['algorithm'],
  digits: totpDigits,
  step: totpStepSeconds,
  window: totpWindowSteps,
  encoding: 'hex' as AuthenticatorOptions['encoding'],
});
otp.resetOptions();

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * RFC 4648 base32 without padding. Not otplib's encode(): it passes the key through a
 * 7-bit ASCII string, which clears the high bit of every byte (0xff encodes as 0x7f), so
 * its generateSecret() yields 140 random bits in 20 bytes, not 160.
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Base32 (any case, spaces and padding ignored) to bytes, through otplib's decoder. That
 * decoder reads characters outside the alphabet as some other value instead of refusing
 * them, so they are refused here first.
 */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  if (!/^[A-Z2-7]*$/.test(clean)) throw new Error('Not base32.');
  return Buffer.from(otp.decode(clean), 'hex');
}

/** A new secret from the CSPRNG: 160 bits, 32 base32 characters. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(totpSecretBytes));
}

/** The RFC 6238 counter (time step) at `ms`; otplib counts the same way from its epoch. */
export function stepAt(ms: number): number {
  return Math.floor(ms / stepMs);
}

/** The code for one time step. */
export function totpCodeAt(secret: string, step: number): string {
  return otp.clone({ epoch: step * stepMs }).generate(secret);
}

/**
 * The step (within ±1 of now) whose code is `code`, or null. otplib tries the current step,
 * then the earlier, then the later one, comparing with ===: what that can leak by timing is
 * which of three codes matched, nanoseconds behind a network round trip, for codes that
 * change every 30 s and guesses the throttle counts.
 */
export function matchTotpStep(secret: string, code: string, now: number): number | null {
  const delta = otp.clone({ epoch: now }).checkDelta(code, secret);
  return delta === null ? null : stepAt(now) + delta;
}

/**
 * Six ASCII digits, or null. Spaces (and tabs) are dropped, as apps show "123 456".
 * Anything else (full-width or other scripts' digits, arrays, objects, empty) is null.
 */
export function parseTotpCode(input: unknown): string | null {
  const parsed = totpCodeSchema.safeParse(input);
  return parsed.success ? parsed.data : null;
}

export const totpCodeSchema = z
  .string()
  .max(64)
  .transform((s) => s.replace(/[ \t]/g, ''))
  // NOTE: [0-9], not \d or Number(): other scripts' digits and full-width forms are refused.
  .pipe(z.string().regex(/^[0-9]{6}$/));

/** otpauth://totp/Portcullis:alice?secret=…&period=30&digits=6&algorithm=SHA1&issuer=Portcullis */
export function otpauthUri(secret: string, accountName: string): string {
  return otp.keyuri(accountName, totpIssuer, secret);
}

/** "ABCD EFGH …": the key in groups of four, for typing into an app by hand. */
export function groupedKey(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}

/** The otpauth URI as an SVG QR code in a data URL, for an <img alt="QR code">. */
export async function qrCodeDataUrl(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/** Associated data that ties a sealed TOTP secret to its owner (lib/crypto/secret-box.ts). */
export function totpSecretContext(userId: string): string {
  return `totp:${userId}`;
}

export const factorNameSchema = z
  .string()
  .trim()
  .min(1, 'Enter a name.')
  .max(maxFactorNameLength, `Names are at most ${maxFactorNameLength} characters.`)
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'Names may not contain control characters.');

const setupInputSchema = z.object({
  code: z.unknown(),
  name: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), factorNameSchema.optional()),
});

export type TotpSetupResult =
  | {
      ok: true;
      /** The rotated session token: set it as the cookie. */
      token: string;
      factorId: string;
      /** Plain recovery codes to show once (first enrollment only), else null. */
      recoveryCodes: string[] | null;
    }
  | { ok: false; reason: 'invalid_code' | 'invalid_name' | 'expired' | 'replaced_missing' | 'session_gone' | 'not_fresh'; message?: string };

/**
 * R-E6: stores the pending device once the user typed a valid code from it. The code's
 * step is stored as used, so the same code cannot sign anyone in afterwards. The first
 * factor comes with a fresh set of recovery codes; a replacement removes the old device
 * in the same transaction, and only now. The session records the second factor.
 */
export async function confirmTotpSetup(
  db: Kysely<Database>,
  session: SessionContext,
  pending: PendingTotpSetup | null,
  input: unknown,
  client: { ip: string | null },
  clock: Clock,
): Promise<TotpSetupResult> {
  if (!pending || pending.userId !== session.userId || pending.expiresAt <= clock.now()) return { ok: false, reason: 'expired' };
  const parsed = setupInputSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'invalid_name', message: parsed.error.issues[0]?.message };
  const code = parseTotpCode(parsed.data.code);
  const now = clock.now();
  const step = code === null ? null : matchTotpStep(pending.secret, code, now);
  if (step === null) return { ok: false, reason: 'invalid_code' };

  const name = parsed.data.name ?? defaultTotpName;
  const actor = factorActorOf(session, client);
  try {
    // NOTE: every transaction here writes first. A SQLite transaction that reads before it
    // writes cannot wait for another instance's write lock (SQLITE_BUSY at once); one that
    // writes first waits its turn like any single statement. Checks follow, and undo.
    const result = await db.transaction().execute(async (trx): Promise<TotpSetupResult> => {
      await insertTotpFactor(trx, {
        id: pending.id,
        userId: session.userId,
        name,
        secretSealed: sealSecret(pending.secret, totpSecretContext(session.userId)),
        enrolledStep: step,
        now,
      });
      const firstFactor = (await countFactors(trx, session.userId)) === 1;
      // R-E8: beside an existing factor, only with a second factor from the last five minutes.
      if ((await stepUpRefusalIn(trx, session, 'fresh', clock, !firstFactor)) !== null) throw new Refused('not_fresh');
      await auditFactorAction(trx, actor, now, 'mfa.factor_enrolled', { type: 'totp', factorId: pending.id, name });
      await auditSetupAfterRecovery(trx, actor, session, now, { type: 'totp', factorId: pending.id });
      await enqueueFactorNotice(trx, { userId: session.userId, kind: 'factor_added', factorType: 'totp', factorName: name, factorId: pending.id, at: now });
      if (pending.replaces !== null) {
        const old = await getFactorOfUser(trx, session.userId, pending.replaces);
        if (!old || old.type !== 'totp') throw new Refused('replaced_missing');
        await deleteFactorRow(trx, session.userId, pending.replaces);
        await auditFactorAction(trx, actor, now, 'mfa.factor_removed', { factorId: pending.replaces, replacedBy: pending.id });
        await enqueueFactorNotice(trx, { userId: session.userId, kind: 'factor_removed', factorType: 'totp', factorName: old.name, factorId: old.id, at: now });
      }
      let recoveryCodes: string[] | null = null;
      if (firstFactor) {
        const set = newRecoveryCodeSet(session.userId);
        await replaceRecoveryCodes(trx, session.userId, set.rows, now);
        await auditFactorAction(trx, actor, now, 'mfa.recovery_codes_created', { count: set.codes.length });
        recoveryCodes = set.codes;
      }
      const token = await elevateSession(trx, session, 'totp', clock);
      if (!token) throw new Refused('session_gone');
      return { ok: true, token, factorId: pending.id, recoveryCodes };
    });
    // The console's users-per-status counts read the factors (lib/admin/user-counts.ts).
    if (result.ok) invalidateUserCounts(db);
    return result;
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.reason };
    // A second submit of the same pending setup: the device is already stored.
    if (isUniqueViolation(err)) return { ok: false, reason: 'expired' };
    throw err;
  }
}

/** Thrown inside a transaction to roll it back with a result for the caller. */
class Refused extends Error {
  constructor(readonly reason: 'replaced_missing' | 'session_gone' | 'not_fresh') {
    super(reason);
  }
}

/**
 * A factor's secret, or null when this server cannot open it (a key it no longer has, a
 * damaged row): that device then matches nothing, and the user can still use another one
 * or a recovery code. Never a 500, never a way in.
 */
function openFactorSecret(factorId: string, sealed: string, userId: string): string | null {
  try {
    return openSecret(sealed, totpSecretContext(userId));
  } catch (err) {
    log.error({ err, factorId }, 'TOTP factor cannot be opened');
    return null;
  }
}

export type SecondFactorResult =
  | { ok: true; token: string; factorId: string | null }
  | { ok: false; reason: 'invalid' | 'replayed' | 'throttled' | 'capped' | 'no_factor' | 'session_gone'; retryAfterMs?: number };

/** What the challenge and the setup page say; one wording for one mistake, wherever it is made. */
export const verifyMessages = {
  invalid: 'That code didn’t work. Check your authenticator app and try again.',
  /** R-I3 refused a code that was right but already spent: the person only has to wait. */
  replayed: 'That code was already used. Wait for the next code in your authenticator app (a new one every 30 seconds) and enter it.',
  recovery_invalid: 'That recovery code didn’t work. Check it and try again.',
  no_factor: 'You have no authenticator app set up.',
  session_gone: 'Your sign-in has ended. Sign in again.',
} as const;

/** The first of the user's devices whose code `code` is (±1 step), or null. */
function matchDevice(factors: TotpFactorSecret[], userId: string, code: string, now: number): { id: string; step: number } | null {
  for (const factor of factors) {
    const secret = openFactorSecret(factor.id, factor.secretSealed, userId);
    const step = secret === null ? null : matchTotpStep(secret, code, now);
    if (step !== null) return { id: factor.id, step };
  }
  return null;
}

/**
 * Sign-in with a TOTP code, as a flat guard sequence: parse → admit (charge the guess to the
 * pending sign-in, the address and the account, atomically) → read the user's devices →
 * match → claim the step (once, atomically) → elevate the session (new id), refund the
 * charge, audit → or, on a wrong code, the failure stays charged (and may mail the user).
 *
 * R-I2: the budget is the source's (lib/auth/mfa-budget.ts): a throttled pending sign-in or
 * address is refused without a check and without a count; another source's valid code
 * passes. Malformed input is no guess: refused, audited, not charged.
 */
export const verifyTotpSignIn = countedVerification('totp', checkTotpSignIn);

async function checkTotpSignIn(
  db: Kysely<Database>,
  session: SessionContext,
  input: unknown,
  client: { ip: string | null },
  clock: Clock,
): Promise<SecondFactorResult> {
  const actor = factorActorOf(session, client);
  const code = parseTotpCode(input);
  if (code === null) {
    await auditFactorAction(db, actor, clock.now(), 'mfa.verify_failed', { method: 'totp', reason: 'malformed' });
    return { ok: false, reason: 'invalid' };
  }

  const admission = await admitGuess(db, { userId: session.userId, kind: 'totp', sessionId: session.sessionId, ip: client.ip }, clock.now());
  if (!admission.admitted) {
    await auditFactorAction(db, actor, clock.now(), 'mfa.verify_failed', { method: 'totp', reason: admission.reason });
    return { ok: false, reason: admission.reason, retryAfterMs: admission.retryAfterMs };
  }
  const now = clock.now();
  const { factors } = await getTotpSignInFactors(db, session.userId);
  const matched = matchDevice(factors, session.userId, code, now);
  const signedIn =
    matched === null
      ? null
      : await db
          .transaction()
          .execute(async (trx) =>
            (await claimTotpStep(trx, matched.id, matched.step, now)) ? signedInWithTotp(trx, session, actor, matched.id, admission.charge, now, clock) : null,
          );
  if (!signedIn) {
    await guessFailed(db, admission.charge, now);
    const reason = factors.length === 0 ? 'no_factor' : matched ? 'replayed' : 'invalid';
    // The audit has said 'wrong' for a wrong code since the start; it keeps saying so.
    await auditFactorAction(db, actor, now, 'mfa.verify_failed', { method: 'totp', reason: reason === 'invalid' ? 'wrong' : reason, factorId: matched?.id ?? null });
    return { ok: false, reason };
  }
  return signedIn;
}

/**
 * After a claimed step, in the claim's transaction: the session records the factor under a
 * new id, the guess's charge is refunded, the success audited — all of it or none. A session
 * that vanished meanwhile still spends the step.
 */
async function signedInWithTotp(
  db: Kysely<Database>,
  session: SessionContext,
  actor: FactorActor,
  factorId: string,
  charge: GuessCharge,
  now: number,
  clock: Clock,
): Promise<SecondFactorResult> {
  const token = await elevateSession(db, session, 'totp', clock);
  if (!token) return { ok: false, reason: 'session_gone' };
  await refundGuess(db, charge);
  await auditFactorAction(db, actor, now, 'mfa.verify_succeeded', { method: 'totp', factorId });
  return { ok: true, token, factorId };
}

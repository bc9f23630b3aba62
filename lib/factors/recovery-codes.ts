import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { countFactors } from '../../db/queries/factors';
import { consumeRecoveryCode, recoveryCodeCounts, replaceRecoveryCodes } from '../../db/queries/recovery-codes';
import type { Clock } from '../clock';
import { elevateSession, type SessionContext } from '../auth/sessions';
import { countedVerification } from '../metrics/record';
import { admitGuess, guessFailed, refundGuess } from '../auth/mfa-throttle';
import { auditFactorAction, factorActorOf } from './audit';
import { StepUpRefused, stepUpRefusalIn, stepUpRefusalOf } from './step-up';
import { enqueueFactorNotice } from '../mail/enqueue';

/**
 * Recovery codes: a fallback for a lost device, never an enrollment. Ten per set, each 80
 * random bits written as 16 Crockford base32 characters (xxxx-xxxx-xxxx-xxxx), shown once
 * and stored only as hashes. Each works once; a new set voids the old one.
 */

export const recoveryCodeCount = 10;
const codeBytes = 10; // 80 bits
const codeLength = 16;
// Crockford's base32: no i, l, o or u, so codes survive being read aloud or copied by hand.
const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

function encode(bytes: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** One new code from the CSPRNG, formatted for display. */
export function newRecoveryCode(): string {
  return formatRecoveryCode(encode(randomBytes(codeBytes)));
}

export function formatRecoveryCode(normalized: string): string {
  return normalized.match(/.{4}/g)!.join('-');
}

/**
 * The canonical form of a typed code, or null when it cannot be one. Case, spaces and
 * dashes do not matter; i/l read as 1 and o as 0, as Crockford's base32 intends.
 */
export function normalizeRecoveryCode(input: unknown): string | null {
  const parsed = recoveryCodeSchema.safeParse(input);
  return parsed.success ? parsed.data : null;
}

export const recoveryCodeSchema = z
  .string()
  .max(64)
  .transform((s) => s.replace(/[\s-]/g, '').toLowerCase().replace(/[il]/g, '1').replace(/o/g, '0'))
  .pipe(z.string().regex(new RegExp(`^[${alphabet}]{${codeLength}}$`)));

/**
 * NOTE: a fast hash is right here. Each code holds 80 bits from the CSPRNG, so a stolen
 * table cannot be reversed by guessing (2^80 tries per code); a slow password hash only
 * helps secrets people choose. The user id keeps equal codes of two users apart.
 */
export function hashRecoveryCode(userId: string, normalized: string): string {
  return createHash('sha256').update(`portcullis-recovery-code\0${userId}\0${normalized}`).digest('hex');
}

/** A new set: the codes to show, and the rows to store. */
export function newRecoveryCodeSet(userId: string): { codes: string[]; rows: { id: string; hash: string }[] } {
  const codes = new Set<string>();
  while (codes.size < recoveryCodeCount) codes.add(newRecoveryCode());
  const list = [...codes];
  return {
    codes: list,
    rows: list.map((code) => ({ id: randomUUID(), hash: hashRecoveryCode(userId, normalizeRecoveryCode(code)!) })),
  };
}

/** What the recovered page and the Security page say about the codes left. */
export const recoveryCodeMessages = {
  signedIn: (unused: number): string =>
    `You signed in with a recovery code. ${unused === 1 ? '1 code' : `${unused} codes`} left.`,
  lastSpent:
    'You have used your last recovery code. Generate new ones now: without them, losing your device would lock you out of your account.',
} as const;

export type RecoverySignInResult =
  | { ok: true; token: string; remaining: number }
  | { ok: false; reason: 'invalid' | 'throttled' | 'capped' | 'session_gone'; retryAfterMs?: number };

/**
 * Sign-in with a recovery code: a budget of its own (kind 'recovery', R-I2), charged per
 * source at admission as for TOTP codes, then one conditional UPDATE marks the code used
 * (exactly one of parallel uses wins), and the charge is refunded. Every use is audited;
 * the session records 'recovery' as the second factor and gets a new id.
 */
export const verifyRecoveryCodeSignIn = countedVerification('recovery', checkRecoveryCodeSignIn);

async function checkRecoveryCodeSignIn(
  db: Kysely<Database>,
  session: SessionContext,
  input: unknown,
  client: { ip: string | null },
  clock: Clock,
): Promise<RecoverySignInResult> {
  const actor = factorActorOf(session, client);
  const code = normalizeRecoveryCode(input);
  if (code === null) {
    await auditFactorAction(db, actor, clock.now(), 'mfa.verify_failed', { method: 'recovery', reason: 'malformed' });
    return { ok: false, reason: 'invalid' };
  }
  const admission = await admitGuess(db, { userId: session.userId, kind: 'recovery', sessionId: session.sessionId, ip: client.ip }, clock.now());
  if (!admission.admitted) {
    await auditFactorAction(db, actor, clock.now(), 'mfa.verify_failed', { method: 'recovery', reason: admission.reason });
    return { ok: false, reason: admission.reason, retryAfterMs: admission.retryAfterMs };
  }
  const now = clock.now();
  if (!(await consumeRecoveryCode(db, session.userId, hashRecoveryCode(session.userId, code), now))) {
    await guessFailed(db, admission.charge, now);
    await auditFactorAction(db, actor, now, 'mfa.verify_failed', { method: 'recovery', reason: 'wrong_or_used' });
    return { ok: false, reason: 'invalid' };
  }
  // NOTE: the spend is one atomic statement and stays outside a transaction: a SQLite
  // transaction held across awaits would stall a second connection in the same process.
  // The code is spent either way; its use is on record, and the user is told (NIST asks
  // for a notice on every change to a user's authenticators), before anything can fail.
  const { unused } = await recoveryCodeCounts(db, session.userId);
  await auditFactorAction(db, actor, now, 'mfa.recovery_code_used', { remaining: unused });
  await enqueueFactorNotice(db, { userId: session.userId, kind: 'recovery_code_used', at: now, factorId: `recovery-${unused}` });
  await refundGuess(db, admission.charge);
  const token = await elevateSession(db, session, 'recovery', clock);
  if (!token) return { ok: false, reason: 'session_gone' };
  await auditFactorAction(db, actor, now, 'mfa.verify_succeeded', { method: 'recovery' });
  return { ok: true, token, remaining: unused };
}

export type RegenerateResult = { ok: true; codes: string[] } | { ok: false; reason: 'not_fresh' | 'no_factor' };

/**
 * A new set of ten, voiding every old code. Needs a second factor passed in the last five
 * minutes: new codes are as good as a new device.
 */
export async function regenerateRecoveryCodes(
  db: Kysely<Database>,
  session: SessionContext,
  client: { ip: string | null },
  clock: Clock,
): Promise<RegenerateResult> {
  const now = clock.now();
  if ((await countFactors(db, session.userId)) === 0) return { ok: false, reason: 'no_factor' };
  try {
    return await db.transaction().execute(async (trx): Promise<RegenerateResult> => {
      const set = newRecoveryCodeSet(session.userId);
      await replaceRecoveryCodes(trx, session.userId, set.rows, now);
      // R-E8: checked where the codes are stored, from the session row as it is now.
      const refused = await stepUpRefusalIn(trx, session, 'fresh', clock, true);
      if (refused !== null) throw new StepUpRefused(refused);
      await auditFactorAction(trx, factorActorOf(session, client), now, 'mfa.recovery_codes_regenerated', { count: set.codes.length });
      return { ok: true, codes: set.codes };
    });
  } catch (err) {
    const refused = stepUpRefusalOf(err);
    if (refused !== null) return { ok: false, reason: 'not_fresh' };
    throw err;
  }
}

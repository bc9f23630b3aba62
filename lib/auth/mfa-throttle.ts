import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import {
  bumpGuessEpoch,
  countGuessFailures,
  deleteGuessFailure,
  getAllGuessSources,
  getGuessAccount,
  getGuessSources,
  insertGuessFailure,
  lockGuessAccount,
  markFailuresNotified,
  pruneGuessRows,
  putGuessSources,
  refundGuessSources,
} from '../../db/queries/mfa-throttle';
import { enqueueSecondFactorFailures } from '../mail/enqueue';
import {
  addressSource,
  capWindowMs,
  chargedSource,
  dailyFailureCap,
  decideAdmission,
  guessKinds,
  liveFailures,
  notifyAtFailures,
  notifyDue,
  sessionSource,
  sourceWaitMs,
  type GuessKind,
} from './mfa-budget';
import { countThrottleBlock } from '../metrics/record';

/**
 * Second-factor guess throttling, the I/O half (the policy is ./mfa-budget.ts). R-I2.
 *
 * admitGuess() is one transaction that takes the user's budget row first (the lock), reads
 * the sources' counts and the account's rolling day, and either refuses (nothing counted)
 * or charges the failure to every source and the account. The caller then checks the code:
 * on success it calls refundGuess() in the transaction that elevates the session; on
 * failure, guessFailed() (which may queue the "someone is trying codes" mail).
 */

export interface GuessSourceInput {
  userId: string;
  kind: GuessKind;
  /** The pending sign-in (or session) the code came from. */
  sessionId: string;
  /** The client address (R-I1), when known. */
  ip: string | null;
}

export interface GuessCharge {
  id: string;
  userId: string;
  kind: GuessKind;
  epoch: number;
  sources: string[];
  /** Failures of this kind in the rolling day, this one included. */
  dayFailures: number;
}

export type GuessAdmission =
  | { admitted: true; charge: GuessCharge }
  | { admitted: false; reason: 'throttled' | 'capped'; retryAfterMs: number };

export function sourcesOf(input: Pick<GuessSourceInput, 'sessionId' | 'ip'>): string[] {
  return input.ip ? [sessionSource(input.sessionId), addressSource(input.ip)] : [sessionSource(input.sessionId)];
}

/** Asks to check one code; when admitted, its failure is already charged (refund it on success). */
export async function admitGuess(db: Kysely<Database>, input: GuessSourceInput, now: number): Promise<GuessAdmission> {
  const admission = await admitOrRefuse(db, input, now);
  if (!admission.admitted) countThrottleBlock(input.kind);
  return admission;
}

async function admitOrRefuse(db: Kysely<Database>, input: GuessSourceInput, now: number): Promise<GuessAdmission> {
  const sources = sourcesOf(input);
  return db.transaction().execute(async (trx): Promise<GuessAdmission> => {
    const { epoch } = await lockGuessAccount(trx, input.userId);
    const stored = await getGuessSources(trx, input.userId, input.kind, sources);
    const day = await countGuessFailures(trx, input.userId, input.kind, epoch, now - capWindowMs);
    const states = sources.map((s) => stored.find((r) => r.source === s) ?? null);
    const verdict = decideAdmission({ sources: states, day, epoch, now });
    if (!verdict.admit) return { admitted: false, reason: verdict.reason, retryAfterMs: verdict.retryAfterMs };
    const id = randomUUID();
    await insertGuessFailure(trx, { id, userId: input.userId, kind: input.kind, at: now, epoch });
    await putGuessSources(trx, input.userId, input.kind, sources.map((source, i) => chargedSource(source, states[i], epoch, now)));
    // NOTE: the budgets need only a day of rows; older ones (failures, quiet sources) go when the count sees old failures.
    if (day.older > 0) await pruneGuessRows(trx, input.userId, now - capWindowMs);
    return { admitted: true, charge: { id, userId: input.userId, kind: input.kind, epoch, sources, dayFailures: day.failures + 1 } };
  });
}

/** The code was right: the charge is taken back (unless an unlock has cleared it meanwhile). Call inside the success's transaction. */
export async function refundGuess(trx: Kysely<Database>, charge: GuessCharge): Promise<void> {
  // NOTE: refundedSource() as one UPDATE; only a charge still on record is refunded (once).
  if (!(await deleteGuessFailure(trx, charge.id))) return;
  await refundGuessSources(trx, charge.userId, charge.kind, charge.sources, charge.epoch);
}

/**
 * The code was wrong (the failure is charged already). From `notifyAtFailures` failures in a
 * rolling day, the user is emailed, at most once a day. Returns whether a mail was queued.
 */
export async function guessFailed(db: Kysely<Database>, charge: GuessCharge, now: number): Promise<boolean> {
  // NOTE: the cheap exit goes by this kind's day; the mail's own check counts every kind.
  if (charge.dayFailures < notifyAtFailures) return false;
  return db.transaction().execute(async (trx) => {
    const { epoch, notifiedAt } = await lockGuessAccount(trx, charge.userId);
    const { failures } = await countGuessFailures(trx, charge.userId, null, epoch, now - capWindowMs);
    if (!notifyDue(failures, notifiedAt, now)) return false;
    await markFailuresNotified(trx, charge.userId, now);
    await enqueueSecondFactorFailures(trx, { userId: charge.userId, at: now, failures });
    return true;
  });
}

/** R-I2 "an admin can always unlock": a new epoch; charges made before it never count again. */
export async function unlockGuesses(trx: Kysely<Database>, userId: string): Promise<void> {
  await bumpGuessEpoch(trx, userId);
}

export interface GuessState {
  /** Failures in the rolling day, per kind. */
  dayFailures: Record<GuessKind, number>;
  /** Kinds at the daily cap. */
  capped: GuessKind[];
  /** Sources that must wait now, and the longest wait. */
  throttledSources: number;
  retryAfterMs: number;
}

/** What the budgets hold for a user right now (the admin's page). */
export async function guessState(db: Kysely<Database>, userId: string, now: number): Promise<GuessState> {
  const account = await getGuessAccount(db, userId);
  const epoch = account?.epoch ?? 0;
  const dayFailures = { totp: 0, recovery: 0 } as Record<GuessKind, number>;
  for (const kind of guessKinds) dayFailures[kind] = (await countGuessFailures(db, userId, kind, epoch, now - capWindowMs)).failures;
  const sources = await getAllGuessSources(db, userId);
  const waits = sources.map((s) => sourceWaitMs(s, epoch, now)).filter((w) => w > 0);
  return {
    dayFailures,
    capped: guessKinds.filter((k) => dayFailures[k] >= dailyFailureCap),
    throttledSources: waits.length,
    retryAfterMs: Math.max(0, ...waits),
  };
}

/** The live failures of one source (tests and the admin's page). */
export async function sourceFailures(db: Kysely<Database>, userId: string, kind: GuessKind, source: string, now: number): Promise<number> {
  const account = await getGuessAccount(db, userId);
  const [row] = await getGuessSources(db, userId, kind, [source]);
  return liveFailures(row, account?.epoch ?? 0, now);
}

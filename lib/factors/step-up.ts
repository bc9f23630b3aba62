import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { countFactors } from '../../db/queries/factors';
import { getSessionAmr } from '../../db/queries/sessions';
import { parseAmr, type SessionContext } from '../auth/sessions';
import { secondFactorAtOf } from '../policy';
import type { Clock } from '../clock';
import { isFreshSecondFactor } from './setup-flow';

/**
 * R-E8: every change to a person's factors, recovery codes or password needs a session that
 * passed a second factor, if they have one; adding, removing and regenerating need one within
 * the last five minutes (freshSecondFactorMs).
 *
 * The services ask this inside the transaction that stores the change, from the session row
 * as it is then: not from the page, and not from a session read before a slow step.
 */

/**
 * - `verified`: the session passed a second factor at some point (renaming a factor).
 * - `fresh`: it passed one within the last five minutes (adding beside an existing factor,
 *   removing, regenerating recovery codes, changing the password).
 */
export type StepUpNeed = 'verified' | 'fresh';
export type StepUpRefusal = 'not_verified' | 'not_fresh';

/** Pure: whether a change needing `need` is refused, and why. */
export function stepUpRefusal(need: StepUpNeed, facts: { hasFactor: boolean; secondFactorAt: number | null }, now: number): StepUpRefusal | null {
  if (!facts.hasFactor) return null; // nothing to prove yet: a first factor needs only the password
  if (facts.secondFactorAt === null) return need === 'fresh' ? 'not_fresh' : 'not_verified';
  if (need === 'fresh' && !isFreshSecondFactor(facts.secondFactorAt, now)) return 'not_fresh';
  return null;
}

/**
 * The check, in `trx`. `hadFactor` overrides the count when the caller already changed the
 * factors in this transaction (it writes first): whether the user had one before.
 * A session that is gone counts as never verified.
 */
export async function stepUpRefusalIn(
  trx: Kysely<Database>,
  session: SessionContext,
  need: StepUpNeed,
  clock: Clock,
  hadFactor?: boolean,
): Promise<StepUpRefusal | null> {
  const hasFactor = hadFactor ?? (await countFactors(trx, session.userId)) > 0;
  if (!hasFactor) return null;
  const amr = await getSessionAmr(trx, session.sessionId);
  const secondFactorAt = amr === undefined ? null : secondFactorAtOf(parseAmr(amr));
  return stepUpRefusal(need, { hasFactor, secondFactorAt }, clock.now());
}

/** Thrown inside a storing transaction to roll it back; recognised by its brand, not `instanceof`. */
export class StepUpRefused extends Error {
  readonly stepUpRefusal: StepUpRefusal;
  constructor(reason: StepUpRefusal) {
    super(reason);
    this.stepUpRefusal = reason;
  }
}

export function stepUpRefusalOf(err: unknown): StepUpRefusal | null {
  const reason = (err as { stepUpRefusal?: unknown } | null)?.stepUpRefusal;
  return reason === 'not_verified' || reason === 'not_fresh' ? reason : null;
}

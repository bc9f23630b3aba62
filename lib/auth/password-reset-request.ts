import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { resetCandidates, type ResetCandidate } from '../../db/queries/password-reset';
import { recordThrottleFailure } from '../../db/queries/throttle';
import { oneHour, oneMinute, type Clock } from '../clock';
import { issuePasswordResetLink } from './reset-link';

/**
 * "Forgot password?": a person names an account by username or email address and, if an
 * active account with an email address matches, a single-use link goes to that address.
 *
 * The answer never says whether an account exists (ASVS 6.3.8), in what it says or in how
 * long it takes: the caller answers after the same cheap work for every request (validate,
 * count the address), and runs `followUp` (the lookup, the link, the mail) after the answer
 * has gone, e.g. with next/server `after()`, and after a random delay (`afterRandomDelay`):
 * run at once, the work for a known account slowed the NEXT response measurably (bench:reset,
 * 1.41× with a 95% interval of 1.09–1.63), a probe an attacker could send right behind their
 * request. Delayed by 0.25–2.5 s it lands on some later request, whichever it is.
 *
 * Throttles (R-I2: no way to flood a mailbox, no way to lock anyone out):
 * - per account, `resetLinksPerAccount`: a mailbox gets at most 3 links an hour from
 *   everyone together; a person who lost one mail can ask twice more;
 * - per client address, `resetRequestsPerAddress`: 10 requests in 15 minutes, so one source
 *   reaches at most ~40 mailboxes an hour while an office behind one NAT address still has
 *   room for several forgetful people at once.
 * Past either limit the answer is the same and nothing is sent. The counters are separate
 * keys in auth_throttle (`reset-account:`, `reset-address:`), never the sign-in ones, and
 * a request changes nothing else: the current password keeps working until a link is used.
 */

export const resetRequestAnswer = 'If an account matches, we sent a link to its email address. It works for 30 minutes.';

export interface ResetLimit {
  max: number;
  windowMs: number;
}

export const resetLinksPerAccount: ResetLimit = { max: 3, windowMs: oneHour };
export const resetRequestsPerAddress: ResetLimit = { max: 10, windowMs: 15 * oneMinute };
/** How long the work after an answer waits: uniformly random in this range. */
export const resetFollowUpDelay = { minMs: 250, maxMs: 2_500 };

/** Runs `work` after a random delay in `resetFollowUpDelay` (see above for why). */
export async function afterRandomDelay<T>(work: () => Promise<T>, delay = resetFollowUpDelay): Promise<T> {
  await sleep(randomInt(delay.minMs, delay.maxMs + 1));
  return work();
}

/** An email address shared by several people: a link to each active one, at most this many. */
export const maxLinksPerRequest = 5;

export const resetAccountKey = (userId: string) => `reset-account:${userId}`;
export const resetAddressKey = (ip: string) => `reset-address:${ip}`;

const requestSchema = z.object({
  identifier: z.string().trim().min(1).max(254),
});

export interface ResetFollowUpResult {
  /** Links issued and queued. */
  sent: number;
  /** Accounts that matched but had their hour's links already. */
  accountThrottled: number;
  /** The request was past the address limit: nothing was looked up. */
  addressThrottled: boolean;
}

export interface ResetRequest {
  /** What the person is told: the same for every well-formed request. */
  result: { ok: true } | { ok: false; reason: 'invalid' };
  /** The lookup, links and mail; run after the answer. Never throws for a missing account. */
  followUp: () => Promise<ResetFollowUpResult>;
}

const nothing = async (): Promise<ResetFollowUpResult> => ({ sent: 0, accountThrottled: 0, addressThrottled: false });

/**
 * Takes a request: validates it and counts the client address (one upsert, whatever the
 * input names), then returns the answer and the work to do after it.
 * @example
 * const { result, followUp } = await requestPasswordReset(db, { identifier }, { ip }, systemClock);
 * after(() => afterRandomDelay(followUp).catch((err) => log.error({ err }, 'password reset request failed')));
 */
export async function requestPasswordReset(
  db: Kysely<Database>,
  input: unknown,
  client: { ip: string },
  clock: Clock,
): Promise<ResetRequest> {
  const now = clock.now();
  const addressCount = (await recordThrottleFailure(db, resetAddressKey(client.ip), now, resetRequestsPerAddress.windowMs)).failures;
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) return { result: { ok: false, reason: 'invalid' }, followUp: nothing };
  if (addressCount > resetRequestsPerAddress.max) {
    return { result: { ok: true }, followUp: async () => ({ sent: 0, accountThrottled: 0, addressThrottled: true }) };
  }
  const identifier = parsed.data.identifier;
  return { result: { ok: true }, followUp: () => sendResetLinks(db, identifier, client, now) };
}

async function sendResetLinks(db: Kysely<Database>, identifier: string, client: { ip: string }, now: number): Promise<ResetFollowUpResult> {
  const candidates = await resetCandidates(db, identifier, maxLinksPerRequest);
  const result: ResetFollowUpResult = { sent: 0, accountThrottled: 0, addressThrottled: false };
  for (const user of candidates) {
    if (await sendResetLink(db, user, client, now)) result.sent++;
    else result.accountThrottled++;
  }
  return result;
}

/** One account: count it, and within the limit issue the link, queue the mail and audit, in one transaction. */
async function sendResetLink(db: Kysely<Database>, user: ResetCandidate, client: { ip: string }, now: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const counted = await recordThrottleFailure(trx, resetAccountKey(user.id), now, resetLinksPerAccount.windowMs);
    if (counted.failures > resetLinksPerAccount.max) return false;
    const { expiresAt } = await issuePasswordResetLink(trx, { userId: user.id, now, createdBy: null, requestedBy: 'self' });
    await writeAudit(trx, {
      at: now,
      actorId: null,
      actorLabel: 'forgot password',
      action: 'auth.password_reset_requested',
      targetType: 'user',
      targetId: user.id,
      details: { expiresAt },
      clientIp: client.ip,
    });
    return true;
  });
}

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { FactorType, MailKind, MailStatus } from '../../db/schema';
import { insertOutboxRows, recipientsOf, type NewOutboxRow, type Recipient } from '../../db/queries/mail';
import { renderSubject, type MailMessage } from './templates';

/**
 * Putting messages on the queue. Every function here takes the transaction that made the
 * change, so the change and its message commit (or roll back) together: nothing is lost
 * between them, and a retried request cannot queue a second copy (the idempotency key is
 * unique; a repeat insert is a no-op). The "period started" message is the exception: the
 * change marks its requirement row and the worker queues it (start-notices.ts).
 */

/** The stable key of each message: one per user, kind and enrollment period (or factor event). */
export const idempotencyKeys = {
  enrollmentStarted: (userId: string, periodStartsAt: number) => `enrollment_started:${userId}:${periodStartsAt}`,
  reminder: (userId: string, periodEndsAt: number, offsetMs: number) => `reminder:${userId}:${periodEndsAt}:${offsetMs}`,
  enrollmentExpired: (userId: string, periodEndsAt: number) => `enrollment_expired:${userId}:${periodEndsAt}`,
  factorNotice: (kind: FactorNoticeKind, userId: string, at: number, eventId: string) => `${kind}:${userId}:${eventId}:${at}`,
  secondFactorFailures: (userId: string, at: number) => `second_factor_failures:${userId}:${at}`,
  accountLink: (tokenId: string) => `account_link:${tokenId}`,
  passwordChanged: (userId: string, at: number) => `password_changed:${userId}:${at}`,
};

export const skipReasons = {
  noAddress: 'skipped: the user has no email address',
  notActive: 'skipped: the user is not active',
  enrolled: 'skipped: the user has already set up MFA',
  obsolete: 'skipped: no longer applies (the user enrolled, or the requirement or period changed)',
} as const;

export function displayName(r: Pick<Recipient, 'displayName' | 'username'>): string {
  return r.displayName?.trim() || r.username;
}

interface RowInput {
  userId: string | null;
  key: string;
  to: string | null;
  message: MailMessage;
  at: number;
  /** Null: deliver; otherwise the reason it is recorded as skipped. */
  skip: string | null;
  /** The rendered subject when the caller has it already (the same for a whole batch). */
  subject?: string;
}

export function outboxRow(input: RowInput): NewOutboxRow {
  const status: MailStatus = input.skip ? 'skipped' : 'pending';
  return {
    id: randomUUID(),
    user_id: input.userId,
    kind: input.message.kind as MailKind,
    idempotency_key: input.key,
    to_address: input.to,
    params: JSON.stringify(input.message.params),
    subject: input.subject ?? renderSubject(input.message),
    text_body: null,
    html_body: null,
    message_id: null,
    status,
    attempts: 0,
    next_attempt_at: status === 'pending' ? input.at : null,
    locked_by: null,
    locked_until: null,
    last_error: input.skip,
    delivered_via: null,
    created_at: input.at,
    updated_at: input.at,
    sent_at: null,
  };
}

type EnqueueStatus = { status: 'pending' | 'skipped' | 'unknown_user' };

/**
 * One message to one user, in the caller's transaction: their address (a row recorded as
 * skipped when they have none), the idempotency key, and the message made from who they are.
 */
async function enqueueForUser(
  trx: Kysely<Database>,
  input: { userId: string; key: string; at: number; message: (r: Recipient) => MailMessage },
): Promise<EnqueueStatus> {
  const r = (await recipientsOf(trx, [input.userId])).get(input.userId);
  if (!r) return { status: 'unknown_user' };
  const row = outboxRow({
    userId: input.userId,
    key: input.key,
    to: r.email,
    at: input.at,
    skip: r.email ? null : skipReasons.noAddress,
    message: input.message(r),
  });
  await insertOutboxRows(trx, [row]);
  return { status: row.status === 'skipped' ? 'skipped' : 'pending' };
}

export type FactorNoticeKind = 'factor_added' | 'factor_removed' | 'recovery_code_used';

export interface FactorNoticeInput {
  userId: string;
  kind: FactorNoticeKind;
  factorType?: FactorType | null;
  /** The name the user gave the factor ("Work phone"). */
  factorName?: string | null;
  /** The factor's id (or another id of the event); makes the idempotency key unique per factor. */
  factorId?: string | null;
  /** When it happened (the clock's now in the caller's transaction). */
  at: number;
}

/**
 * A notice on every change to a user's authenticators (NIST SP 800-63B): call it inside the
 * transaction that added or removed the factor, or used the recovery code. Users without an
 * email address get a row recorded as skipped. Calling it twice for the same event
 * (same user, kind, factor id or type, and time) queues one message.
 *
 * @example await enqueueFactorNotice(trx, { userId, kind: 'factor_added', factorType: 'totp', factorName: 'Phone', factorId, at: now })
 */
export async function enqueueFactorNotice(trx: Kysely<Database>, input: FactorNoticeInput): Promise<EnqueueStatus> {
  const eventId = input.factorId ?? input.factorType ?? 'event';
  return enqueueForUser(trx, {
    userId: input.userId,
    key: idempotencyKeys.factorNotice(input.kind, input.userId, input.at, eventId),
    at: input.at,
    message: (r) => ({
      kind: input.kind,
      params: { name: displayName(r), at: input.at, factorType: input.factorType ?? null, factorName: input.factorName ?? null },
    }),
  });
}

/**
 * "Someone who knows your password is trying codes": queued by lib/auth/mfa-throttle.ts from
 * the 10th second-factor failure in a rolling day, at most once a day (R-I2). Call it in the
 * transaction that records the notice.
 */
export async function enqueueSecondFactorFailures(
  trx: Kysely<Database>,
  input: { userId: string; at: number; failures: number },
): Promise<EnqueueStatus> {
  return enqueueForUser(trx, {
    userId: input.userId,
    key: idempotencyKeys.secondFactorFailures(input.userId, input.at),
    at: input.at,
    message: (r) => ({ kind: 'second_factor_failures', params: { name: displayName(r), at: input.at, failures: input.failures } }),
  });
}

export interface AccountLinkMailInput {
  userId: string;
  kind: 'invitation' | 'password_reset';
  /** The account_tokens row (lib/auth/account-tokens.ts issueAccountToken). */
  tokenId: string;
  expiresAt: number;
  at: number;
  /** Reset only: who asked. */
  requestedBy?: 'self' | 'admin';
}

/**
 * Queues an invitation or a reset link, in the transaction that issued the link. The message
 * carries the link's row id, never its token: the worker derives the token when it renders,
 * and the outbox keeps the body with the link withheld. One message per link.
 */
export async function enqueueAccountLink(trx: Kysely<Database>, input: AccountLinkMailInput): Promise<EnqueueStatus> {
  return enqueueForUser(trx, {
    userId: input.userId,
    key: idempotencyKeys.accountLink(input.tokenId),
    at: input.at,
    message: (r) => ({
      kind: input.kind,
      params: {
        name: displayName(r),
        username: r.username,
        tokenId: input.tokenId,
        expiresAt: input.expiresAt,
        ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      },
    }),
  });
}

/** "Your password was changed / reset / set": in the transaction that stored the new hash. */
export async function enqueuePasswordNotice(
  trx: Kysely<Database>,
  input: { userId: string; at: number; how: 'changed' | 'reset' | 'set' },
): Promise<EnqueueStatus> {
  return enqueueForUser(trx, {
    userId: input.userId,
    key: idempotencyKeys.passwordChanged(input.userId, input.at),
    at: input.at,
    message: (r) => ({ kind: 'password_changed', params: { name: displayName(r), at: input.at, how: input.how } }),
  });
}

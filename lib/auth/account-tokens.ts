import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { AccountTokenPurpose } from '../../db/schema';
import {
  consumeAccountToken,
  getAccountTokenByHash,
  getAccountTokenById,
  insertAccountToken,
  voidOpenAccountTokens,
  type AccountTokenRow,
} from '../../db/queries/account-tokens';
import { oneDay, oneMinute } from '../clock';
import { appSecret, appSecrets } from '../config/secret';
import { deriveSubkey } from '../crypto/secret-box';

/**
 * Links that let a person set their own password: invitations (7 days by default) and
 * password resets (30 minutes). Single-use; a newer link of the same purpose voids the older.
 *
 * NOTE: the token is never stored, not even sealed. It is derived from the row's random id
 * with an HMAC under a key from the app secret, when the mail is rendered; the row keeps only
 * sha256(token). Reading the database (or the outbox, whose stored bodies withhold the link)
 * gives no usable link; an admin never sees one (ASVS 6.4.6).
 *
 * Secret rotation: a link is issued under the newest secret; the mail is rendered with the
 * listed secret whose token matches the stored hash (mailableAccountToken), so a rotation
 * between queueing and sending keeps the link, and a mailed link is redeemed by its hash
 * alone, whatever the secrets are by then. Dropping the secret a queued link was made under
 * leaves it unmailable: the worker retries, then fails it, and an admin sends a new one.
 */

export const defaultInvitationValidityMs = 7 * oneDay;
export const passwordResetValidityMs = 30 * oneMinute;

const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

/** The link's token for a row id (32 bytes of HMAC-SHA256, base64url). */
export function accountTokenOf(id: string, secret: string = appSecret()): string {
  return createHmac('sha256', deriveSubkey(secret, 'account-token hmac v1')).update(id, 'utf8').digest('base64url');
}

/**
 * The token of a stored link: under the first listed secret (newest first) whose token has
 * the row's hash; null when none has (the secret it was issued under is no longer listed).
 */
export function storedAccountToken(row: Pick<AccountTokenRow, 'id' | 'token_hash'>, secrets: readonly string[] = appSecrets()): string | null {
  for (const secret of secrets) {
    const token = accountTokenOf(row.id, secret);
    if (accountTokenHash(token) === row.token_hash) return token;
  }
  return null;
}

/**
 * The token to put in a queued link's mail, by row id; null when the row is gone or no listed
 * secret makes its token. The worker asks just before it renders the mail.
 */
export async function mailableAccountToken(db: Kysely<Database>, id: string, secrets?: readonly string[]): Promise<string | null> {
  const row = await getAccountTokenById(db, id);
  return row ? storedAccountToken(row, secrets) : null;
}

export function accountTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isWellFormedAccountToken(value: unknown): value is string {
  return typeof value === 'string' && tokenPattern.test(value);
}

export interface IssueAccountTokenInput {
  userId: string;
  purpose: AccountTokenPurpose;
  now: number;
  /** Null: an invitation to a staged user, valid from activation (startInvitation). */
  expiresAt: number | null;
  /** The admin's id, or null when the person asked themself. */
  createdBy: string | null;
  /** For tests that need a fixed secret; defaults to the app secret. */
  secret?: string;
}

/**
 * Issues a link: voids the user's open links of the same purpose and stores the new one's
 * hash. Call it in the transaction that queues the mail. Returns the row id, which is what
 * the queued message carries.
 */
export async function issueAccountToken(trx: Kysely<Database>, input: IssueAccountTokenInput): Promise<{ id: string; voided: number }> {
  const voided = await voidOpenAccountTokens(trx, input.userId, input.purpose, input.now);
  const id = randomUUID();
  const row: AccountTokenRow = {
    id,
    user_id: input.userId,
    purpose: input.purpose,
    token_hash: accountTokenHash(accountTokenOf(id, input.secret)),
    created_at: input.now,
    created_by: input.createdBy,
    expires_at: input.expiresAt,
    used_at: null,
    voided_at: null,
  };
  await insertAccountToken(trx, row);
  return { id, voided };
}

export type AccountLinkState =
  | { state: 'open'; id: string; userId: string; purpose: AccountTokenPurpose; expiresAt: number }
  | { state: 'unknown' | 'expired' | 'used' | 'voided' };

function stateOf(row: AccountTokenRow | undefined, now: number): AccountLinkState {
  if (!row) return { state: 'unknown' };
  if (row.used_at !== null) return { state: 'used' };
  if (row.voided_at !== null) return { state: 'voided' };
  if (row.expires_at === null) return { state: 'unknown' };
  if (Number(row.expires_at) <= now) return { state: 'expired' };
  return { state: 'open', id: row.id, userId: row.user_id, purpose: row.purpose, expiresAt: Number(row.expires_at) };
}

/** What a link is now, without using it (the page shows a clear message for each state). */
export async function inspectAccountLink(db: Kysely<Database>, token: unknown, now: number): Promise<AccountLinkState> {
  if (!isWellFormedAccountToken(token)) return { state: 'unknown' };
  return stateOf(await getAccountTokenByHash(db, accountTokenHash(token)), now);
}

/** What a link is now, by its row id: the worker asks before it mails one (a used, replaced or expired link is skipped). */
export async function accountLinkStateById(db: Kysely<Database>, id: string, now: number): Promise<AccountLinkState> {
  return stateOf(await getAccountTokenById(db, id), now);
}

/**
 * Uses a link: exactly one of any number of parallel calls with the same token gets `open`
 * (a conditional UPDATE); the others get `used`. Call it in the transaction that sets the
 * password, so a failure later in it leaves the link unused.
 */
export async function redeemAccountLink(trx: Kysely<Database>, token: unknown, now: number): Promise<AccountLinkState> {
  const seen = await inspectAccountLink(trx, token, now);
  if (seen.state !== 'open') return seen;
  if (!(await consumeAccountToken(trx, seen.id, now))) return { state: 'used' };
  return seen;
}

import type { Kysely, Selectable } from 'kysely';
import type { AccountTokenPurpose, AccountTokensTable, Database } from '../schema';

/** Links to set one's own password, stored by hash (lib/auth/account-tokens.ts). */

export type AccountTokenRow = Selectable<AccountTokensTable>;

export async function insertAccountToken(db: Kysely<Database>, row: AccountTokenRow): Promise<void> {
  await db.insertInto('account_tokens').values(row).execute();
}

/** Voids the user's open links (unused, not yet voided) of one purpose, or of every purpose; returns how many. */
export async function voidOpenAccountTokens(
  db: Kysely<Database>,
  userId: string,
  purpose: AccountTokenPurpose | 'all',
  now: number,
): Promise<number> {
  let update = db.updateTable('account_tokens').set({ voided_at: now }).where('user_id', '=', userId);
  if (purpose !== 'all') update = update.where('purpose', '=', purpose);
  const result = await update
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function getAccountTokenByHash(db: Kysely<Database>, tokenHash: string): Promise<AccountTokenRow | undefined> {
  return db.selectFrom('account_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function getAccountTokenById(db: Kysely<Database>, id: string): Promise<AccountTokenRow | undefined> {
  return db.selectFrom('account_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * R-I3 for links: marks the link used if it is still open and unexpired. A conditional UPDATE,
 * so of any number of parallel redemptions exactly one changes the row. Returns whether this
 * call used it.
 */
export async function consumeAccountToken(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('account_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .where('expires_at', 'is not', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** The user's invitations not yet sent (staged user): activation starts their clock. */
export async function unsentInvitations(db: Kysely<Database>, userId: string): Promise<AccountTokenRow[]> {
  return db
    .selectFrom('account_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('purpose', '=', 'invitation')
    .where('expires_at', 'is', null)
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .execute();
}

/** Starts an unsent invitation's validity (at activation). Returns whether it was still unsent. */
export async function startInvitation(db: Kysely<Database>, id: string, expiresAt: number): Promise<boolean> {
  const result = await db
    .updateTable('account_tokens')
    .set({ expires_at: expiresAt })
    .where('id', '=', id)
    .where('expires_at', 'is', null)
    .where('used_at', 'is', null)
    .where('voided_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** The newest link of a purpose for a user (any state), for the console. */
export async function latestAccountToken(
  db: Kysely<Database>,
  userId: string,
  purpose: AccountTokenPurpose,
): Promise<AccountTokenRow | undefined> {
  return db
    .selectFrom('account_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

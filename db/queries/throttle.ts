import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { AuthThrottleTable, Database, UserState } from '../schema';

export type ThrottleRow = Selectable<AuthThrottleTable>;

export async function getThrottle(db: Kysely<Database>, key: string): Promise<ThrottleRow | undefined> {
  return db.selectFrom('auth_throttle').selectAll().where('key', '=', key).executeTakeFirst();
}

/**
 * Counts one failure atomically (an upsert that increments), so parallel guesses on
 * several app instances are each counted. Returns the count after this failure.
 * A window older than `windowMs` restarts at 1.
 */
export async function recordThrottleFailure(
  db: Kysely<Database>,
  key: string,
  now: number,
  windowMs: number,
): Promise<ThrottleRow> {
  const windowStart = now - windowMs;
  return db
    .insertInto('auth_throttle')
    .values({ key, failures: 1, window_started_at: now, blocked_until: 0 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql`case when auth_throttle.window_started_at <= ${windowStart} then 1 else auth_throttle.failures + 1 end`,
        window_started_at: sql`case when auth_throttle.window_started_at <= ${windowStart} then ${now} else auth_throttle.window_started_at end`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * One failed password sign-in from `address` for `account`: the pair's time is upserted,
 * pairs older than the window go, and the distinct accounts still in the window are counted.
 */
export async function recordAddressAccountFailure(
  db: Kysely<Database>,
  address: string,
  account: string,
  now: number,
  windowMs: number,
): Promise<number> {
  await db
    .insertInto('sign_in_address_failures')
    .values({ address, account, last_failed_at: now })
    .onConflict((oc) => oc.columns(['address', 'account']).doUpdateSet({ last_failed_at: now }))
    .execute();
  await db.deleteFrom('sign_in_address_failures').where('address', '=', address).where('last_failed_at', '<=', now - windowMs).execute();
  const row = await db
    .selectFrom('sign_in_address_failures')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('address', '=', address)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The address key's row holds the distinct-account count; blocked_until only ever grows. */
export async function putAddressThrottle(db: Kysely<Database>, key: string, accounts: number, now: number, blockedUntil: number): Promise<void> {
  await db
    .insertInto('auth_throttle')
    .values({ key, failures: accounts, window_started_at: now, blocked_until: blockedUntil })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: accounts,
        blocked_until: sql`case when auth_throttle.blocked_until > ${blockedUntil} then auth_throttle.blocked_until else ${blockedUntil} end`,
      }),
    )
    .execute();
}

export async function setThrottleBlockedUntil(db: Kysely<Database>, key: string, until: number): Promise<void> {
  await db
    .updateTable('auth_throttle')
    .set({ blocked_until: sql`case when blocked_until > ${until} then blocked_until else ${until} end` })
    .where('key', '=', key)
    .execute();
}

export async function clearThrottle(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('auth_throttle').where('key', '=', key).execute();
}

export interface SignInCandidate {
  /** The account named at sign-in, if any (looked up case-insensitively). */
  user: { id: string; username: string; password_hash: string | null; state: UserState } | undefined;
  /** The throttle rows' blocked_until for the account key and the address key; null when there is no row. */
  accountBlockedUntil: number | null;
  addressBlockedUntil: number | null;
}

/**
 * Everything a password sign-in reads before it verifies, in one statement: the account's
 * and the address's throttle state, and the user by lowercase username. The user is read
 * whether or not a throttle applies, so the statement costs the same either way.
 */
export async function getSignInCandidate(
  db: Kysely<Database>,
  usernameLower: string,
  accountKey: string,
  addressKey: string,
): Promise<SignInCandidate> {
  const { rows } = await sql<{
    id: string | null;
    username: string | null;
    password_hash: string | null;
    state: UserState | null;
    account_blocked_until: number | string | null;
    address_blocked_until: number | string | null;
  }>`select u.id, u.username, u.password_hash, u.state,
  (select t.blocked_until from auth_throttle t where t.key = ${accountKey}) as account_blocked_until,
  (select t.blocked_until from auth_throttle t where t.key = ${addressKey}) as address_blocked_until
from (select 1 as one) probe left join users u on u.username_lower = ${usernameLower}`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('sign-in candidate query returned no row');
  const num = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    user:
      row.id !== null && row.username !== null && row.state !== null
        ? { id: row.id, username: row.username, password_hash: row.password_hash, state: row.state }
        : undefined,
    accountBlockedUntil: num(row.account_blocked_until),
    addressBlockedUntil: num(row.address_blocked_until),
  };
}

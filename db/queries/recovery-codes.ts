import type { Kysely } from 'kysely';
import type { Database } from '../schema';

/** Recovery codes, stored only as hashes (lib/factors/recovery-codes.ts). */

/** Voids every code the user has and stores the new set; call it inside a transaction. */
export async function replaceRecoveryCodes(
  db: Kysely<Database>,
  userId: string,
  codes: readonly { id: string; hash: string }[],
  now: number,
): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codes.length === 0) return;
  await db
    .insertInto('recovery_codes')
    .values(codes.map((c) => ({ id: c.id, user_id: userId, code_hash: c.hash, created_at: now, used_at: null })))
    .execute();
}

/**
 * R-I3: marks one unused code as used. A conditional UPDATE: of parallel requests with the
 * same code exactly one changes the row. Returns whether this call used it.
 */
export async function consumeRecoveryCode(db: Kysely<Database>, userId: string, hash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function recoveryCodeCounts(db: Kysely<Database>, userId: string): Promise<{ total: number; unused: number }> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => [
      eb.fn.countAll<number | string>().as('total'),
      eb.fn.count<number | string>('id').filterWhere('used_at', 'is', null).as('unused'),
    ])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), unused: Number(row.unused) };
}

export async function deleteRecoveryCodes(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
}

import type { Kysely, Selectable } from 'kysely';
import type { Database, RememberedDevicesTable } from '../schema';

/** Remembered devices (018), stored by the hash of their cookie's token (lib/auth/remembered-devices.ts). */

export type RememberedDeviceRow = Selectable<RememberedDevicesTable>;

export async function insertRememberedDevice(db: Kysely<Database>, row: RememberedDeviceRow): Promise<void> {
  await db.insertInto('remembered_devices').values(row).execute();
}

/**
 * The live device with this token hash, only if it is `userId`'s: one probe of the unique
 * index. Another person's token is "none", never theirs.
 */
export async function liveDeviceByHash(
  db: Kysely<Database>,
  userId: string,
  tokenHash: string,
  now: number,
): Promise<Pick<RememberedDeviceRow, 'id' | 'created_at' | 'last_seen_at'> | undefined> {
  return db
    .selectFrom('remembered_devices')
    .select(['id', 'created_at', 'last_seen_at'])
    .where('token_hash', '=', tokenHash)
    .where('user_id', '=', userId)
    .where('forgotten_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Moves last_seen_at forward, only if it is older than `staleBefore` (so parallel requests write once). */
export async function touchRememberedDevice(db: Kysely<Database>, id: string, now: number, staleBefore: number): Promise<void> {
  await db
    .updateTable('remembered_devices')
    .set({ last_seen_at: now })
    .where('id', '=', id)
    .where('last_seen_at', '<', staleBefore)
    .execute();
}

/** The user's live devices, newest first; bounded (a person has a handful). */
export async function liveDevicesOfUser(db: Kysely<Database>, userId: string, now: number, limit: number): Promise<RememberedDeviceRow[]> {
  return db
    .selectFrom('remembered_devices')
    .selectAll()
    .where('user_id', '=', userId)
    .where('forgotten_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Forgets one of the user's live devices; false when it is not theirs or already gone. */
export async function forgetDeviceRow(db: Kysely<Database>, userId: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('remembered_devices')
    .set({ forgotten_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('forgotten_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Forgets every device of the user not yet forgotten (expired ones too: nothing to lose); returns how many. */
export async function forgetDevicesOfUser(db: Kysely<Database>, userId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('remembered_devices')
    .set({ forgotten_at: now })
    .where('user_id', '=', userId)
    .where('forgotten_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from '../schema';

export type ApiKeyRow = Selectable<ApiKeysTable>;

export async function insertApiKey(db: Kysely<Database>, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** The key with this hash if it is live at `now`: not revoked, and not expired (an expiry is exclusive). */
export async function getActiveApiKeyByHash(db: Kysely<Database>, keyHash: string, now: number): Promise<ApiKeyRow | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

export async function markApiKeyUsed(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** Every key for the console, newest first; never the hash. */
export async function listApiKeyRows(db: Kysely<Database>): Promise<Omit<ApiKeyRow, 'key_hash'>[]> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'prefix', 'role', 'created_at', 'created_by', 'last_used_at', 'revoked_at', 'expires_at'])
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/** Revokes a live key; undefined when there is no such key or it was revoked already. */
export async function revokeApiKeyRow(db: Kysely<Database>, id: string, at: number): Promise<{ name: string } | undefined> {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(['name'])
    .executeTakeFirst();
}

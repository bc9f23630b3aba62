import type { Kysely } from 'kysely';
import type { Database } from '../schema';

/**
 * Every column that holds a value sealed with the app secret (lib/crypto/secret-box.ts), for
 * re-sealing after a secret rotation (lib/admin/secret-rotation.ts): read in keyset pages by
 * primary key, replaced only if unchanged since read.
 */

export interface SealedTotpRow {
  id: string;
  user_id: string;
  username: string | null;
  secret_enc: string;
}

/** TOTP factors with a sealed secret and an id after `afterId` (null: from the start), by id. */
export async function sealedTotpSecretsAfter(db: Kysely<Database>, afterId: string | null, limit: number): Promise<SealedTotpRow[]> {
  let query = db
    .selectFrom('factors')
    .leftJoin('users', 'users.id', 'factors.user_id')
    .select(['factors.id as id', 'factors.user_id as user_id', 'users.username as username', 'factors.secret_enc as secret_enc'])
    .where('factors.secret_enc', 'is not', null)
    .orderBy('factors.id')
    .limit(limit);
  if (afterId !== null) query = query.where('factors.id', '>', afterId);
  return (await query.execute()) as SealedTotpRow[];
}

/** Replaces a factor's sealed secret if it still is `from` (a conditional update); whether it did. */
export async function replaceTotpSecret(db: Kysely<Database>, id: string, from: string, to: string): Promise<boolean> {
  const result = await db.updateTable('factors').set({ secret_enc: to }).where('id', '=', id).where('secret_enc', '=', from).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** The settings row's sealed Duo client secret, if any (there is one settings row, id 1). */
export async function sealedDuoSecret(db: Kysely<Database>): Promise<{ id: number; sealed: string } | null> {
  const row = await db
    .selectFrom('mfa_settings')
    .select(['id', 'duo_client_secret_enc'])
    .where('duo_client_secret_enc', 'is not', null)
    .orderBy('id')
    .executeTakeFirst();
  return row ? { id: Number(row.id), sealed: row.duo_client_secret_enc! } : null;
}

/**
 * Replaces the sealed Duo client secret if it still is `from`; whether it did. The settings
 * mean the same afterwards, so neither updated_at nor the config version moves.
 */
export async function replaceDuoSecret(db: Kysely<Database>, id: number, from: string, to: string): Promise<boolean> {
  const result = await db
    .updateTable('mfa_settings')
    .set({ duo_client_secret_enc: to })
    .where('id', '=', id)
    .where('duo_client_secret_enc', '=', from)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

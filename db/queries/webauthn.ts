import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../schema';

/**
 * WebAuthn credentials (rows of `factors` with type 'webauthn') and the spent single-use
 * values of the WebAuthn and Duo ceremonies. Every credential lookup is scoped to a user,
 * so a credential id from someone else's authenticator never matches (lib/factors/webauthn.ts).
 */

export interface NewWebauthnFactor {
  id: string;
  userId: string;
  name: string;
  /** base64url credential id, unique across all users. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  signCount: number;
  transports: string[];
  now: number;
}

export async function insertWebauthnFactor(db: Kysely<Database>, factor: NewWebauthnFactor): Promise<void> {
  await db
    .insertInto('factors')
    .values({
      id: factor.id,
      user_id: factor.userId,
      type: 'webauthn',
      name: factor.name,
      created_at: factor.now,
      last_used_at: null,
      secret_enc: null,
      last_used_step: null,
      credential_id: factor.credentialId,
      public_key: factor.publicKey,
      sign_count: factor.signCount,
      transports: JSON.stringify(factor.transports),
    })
    .execute();
}

export interface WebauthnCredentialRef {
  factorId: string;
  name: string;
  credentialId: string;
  transports: string[];
}

export interface WebauthnCredentialRecord extends WebauthnCredentialRef {
  publicKey: string;
  signCount: number;
}

function parseTransports(text: string | null): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/** The user's credentials (for excludeCredentials and allowCredentials), oldest first. */
export async function listWebauthnCredentials(db: Kysely<Database>, userId: string): Promise<WebauthnCredentialRef[]> {
  const rows = await db
    .selectFrom('factors')
    .select(['id', 'name', 'credential_id', 'transports'])
    .where('user_id', '=', userId)
    .where('type', '=', 'webauthn')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows
    .filter((r) => r.credential_id !== null)
    .map((r) => ({ factorId: r.id, name: r.name, credentialId: r.credential_id!, transports: parseTransports(r.transports) }));
}

/** One of this user's credentials by credential id; another user's never matches. */
export async function getWebauthnCredentialOfUser(
  db: Kysely<Database>,
  userId: string,
  credentialId: string,
): Promise<WebauthnCredentialRecord | undefined> {
  const row = await db
    .selectFrom('factors')
    .select(['id', 'name', 'credential_id', 'public_key', 'sign_count', 'transports'])
    .where('user_id', '=', userId)
    .where('type', '=', 'webauthn')
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  if (!row || row.credential_id === null || row.public_key === null) return undefined;
  return {
    factorId: row.id,
    name: row.name,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count ?? 0),
    transports: parseTransports(row.transports),
  };
}

/**
 * Records a use of a credential with the authenticator's new signature counter, only if
 * the counter moved forward, or stays 0 for an authenticator without one (synced passkeys
 * report 0 every time). One conditional UPDATE: of two requests carrying the same counter
 * at most one changes the row. Returns whether this call recorded it.
 */
export async function advanceWebauthnCounter(
  db: Kysely<Database>,
  factorId: string,
  newCount: number,
  now: number,
): Promise<boolean> {
  const stored = sql<number>`coalesce(sign_count, 0)`;
  const result = await db
    .updateTable('factors')
    .set({ sign_count: newCount, last_used_at: now })
    .where('id', '=', factorId)
    .where('type', '=', 'webauthn')
    .where((eb) =>
      newCount === 0 ? eb(stored, '=', 0) : eb(stored, '<', newCount),
    )
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Spends a single-use value: true the first time, false ever after (on any instance). The
 * caller passes a hash, never the value. Expired rows are swept on the way: their values
 * are refused for being expired anyway.
 */
export async function spendNonce(
  db: Kysely<Database>,
  nonce: { hash: string; purpose: string; userId: string; expiresAt: number },
  now: number,
): Promise<boolean> {
  await db.deleteFrom('spent_nonces').where('expires_at', '<=', now).execute();
  const row = await db
    .insertInto('spent_nonces')
    .values({ nonce_hash: nonce.hash, purpose: nonce.purpose, user_id: nonce.userId, spent_at: now, expires_at: nonce.expiresAt })
    .onConflict((oc) => oc.column('nonce_hash').doNothing())
    .returning('nonce_hash')
    .executeTakeFirst();
  return row !== undefined;
}

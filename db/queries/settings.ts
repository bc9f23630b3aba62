import type { Kysely, Selectable } from 'kysely';
import type { Database, MfaSettingsTable } from '../schema';
import type { MfaSettings } from '../../lib/policy/types';

/** Org MFA settings (R-A1, R-A2) and the config version the gate reloads on. */

export type MfaSettingsRow = Selectable<MfaSettingsTable>;

export async function getMfaSettingsRow(db: Kysely<Database>): Promise<MfaSettingsRow> {
  return db.selectFrom('mfa_settings').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
}

/** The enabled methods, for the gate and decide(). */
export async function loadMfaSettings(db: Kysely<Database>): Promise<MfaSettings> {
  const row = await db
    .selectFrom('mfa_settings')
    .select(['totp_enabled', 'webauthn_enabled', 'duo_enabled', 'challenge_enrolled'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return {
    totp: row.totp_enabled === 1,
    webauthn: row.webauthn_enabled === 1,
    duo: row.duo_enabled === 1,
    challengeEnrolled: row.challenge_enrolled === 1, // R-D11
  };
}

/** Duo's client configuration with the sealed secret, for the Duo factor module only. */
export async function loadDuoConfig(db: Kysely<Database>): Promise<{
  enabled: boolean;
  clientId: string | null;
  clientSecretSealed: string | null;
  apiHost: string | null;
  redirectUri: string | null;
}> {
  const row = await getMfaSettingsRow(db);
  return {
    enabled: row.duo_enabled === 1,
    clientId: row.duo_client_id,
    clientSecretSealed: row.duo_client_secret_enc,
    apiHost: row.duo_api_host,
    redirectUri: row.duo_redirect_uri,
  };
}

export type MfaSettingsUpdate = Omit<MfaSettingsRow, 'id'>;

export async function updateMfaSettingsRow(db: Kysely<Database>, row: MfaSettingsUpdate): Promise<void> {
  await db.updateTable('mfa_settings').set(row).where('id', '=', 1).execute();
}

export async function getConfigVersion(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('config_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.version);
}

/**
 * Call it in the transaction of every policy or settings change: the gate compares the
 * version it compiled against and reloads when it moved.
 */
export async function bumpConfigVersion(db: Kysely<Database>): Promise<void> {
  await db
    .updateTable('config_version')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('id', '=', 1)
    .execute();
}

/** Issue 18: minutes after which the admin console asks an admin for a second factor again. */
export async function loadAdminReverifyMinutes(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('mfa_settings').select('admin_reverify_minutes').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(row.admin_reverify_minutes);
}

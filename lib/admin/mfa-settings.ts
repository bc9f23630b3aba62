import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { bumpConfigVersion, getMfaSettingsRow, updateMfaSettingsRow, type MfaSettingsRow } from '../../db/queries/settings';
import { maxReverifyMinutes, minReverifyMinutes, validateSettings, webauthnOnlyError } from '../policy';
import { loadPolicyRecords } from '../../db/queries/policies';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { parseInput, ValidationError } from './errors';
import { invalidateUserCounts } from './user-directory';

/** Org MFA settings (R-A1, R-A2). The Duo client secret goes in sealed and never comes out. */

/** Lengths the Duo Universal SDK insists on; checking them here beats a failing login later. */
export const duoClientIdLength = 20;
export const duoClientSecretLength = 40;

export interface MfaSettingsView {
  totp: boolean;
  webauthn: boolean;
  duo: boolean;
  /** R-D11: users who have a factor are challenged at sign-in even when nothing requires MFA. */
  challengeEnrolled: boolean;
  /** Issue 18: the admin console asks an admin for a second factor again after this many minutes. */
  adminReverifyMinutes: number;
  duoConfig: {
    clientId: string | null;
    apiHost: string | null;
    redirectUri: string | null;
    /** Whether a client secret is stored; the secret itself is never returned. */
    hasSecret: boolean;
  };
  updatedAt: number | null;
}

export interface SaveMfaSettingsOptions {
  /**
   * Encrypts the Duo client secret for storage (lib/crypto owns the key). Only called when
   * a new secret is given; the plaintext is stored nowhere else and never logged.
   */
  sealSecret: (plain: string) => string | Promise<string>;
}

/** Issue 18: the admin console's own re-verification, 12 hours unless the org says otherwise. */
export const defaultAdminReverifyMinutes = 720;
const adminReverifyRangeMessage = `Admin re-verification is every ${minReverifyMinutes} to ${maxReverifyMinutes} minutes (30 days).`;

/** Issue 18: the refusal when WebAuthn would be turned off under a phishing-resistant policy that is ON. */
export function webauthnNeededBy(names: readonly string[]): string {
  const list = names.slice(0, 5).map((n) => `"${n}"`).join(', ');
  return `WebAuthn is needed by phishing-resistant polic${names.length > 1 ? 'ies' : 'y'} ${list}${names.length > 5 ? ' and more' : ''}: switch ${names.length > 1 ? 'them' : 'it'} OFF or to "any second factor" first.`;
}

const hostPattern = /^(?=[^:]{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::(?:[1-9][0-9]{0,4}))?$/;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && !url.hash;
  } catch {
    return false;
  }
}

/** An omitted value keeps what is stored; blank or null (what GET says of an unset one) clears it. */
const optionalText = (schema: z.ZodString) =>
  z.union([z.literal('').transform(() => null), z.null(), schema]).optional();

const duoConfigSchema = z.strictObject(
  {
    clientId: optionalText(
      z
        .string('Duo client ID must be text.')
        .trim()
        .regex(
          new RegExp(`^[A-Za-z0-9]{${duoClientIdLength}}$`),
          `Duo client ID is the ${duoClientIdLength}-character value from the Duo Admin Panel.`,
        ),
    ),
    // NOTE: no trim and no echo of the value in messages: it is a secret.
    clientSecret: z
      .string('Duo client secret must be text.')
      .refine((v) => v === '' || /^\S+$/.test(v), 'Duo client secret must not contain spaces.')
      .refine(
        (v) => v === '' || v.length === duoClientSecretLength,
        `Duo client secret is the ${duoClientSecretLength}-character value from the Duo Admin Panel.`,
      )
      .optional(),
    apiHost: optionalText(
      z
        .string('Duo API hostname must be text.')
        .trim()
        .toLowerCase()
        .regex(hostPattern, 'Duo API hostname must be a hostname such as api-xxxxxxxx.duosecurity.com.'),
    ),
    redirectUri: optionalText(
      z
        .string('Duo redirect URI must be text.')
        .trim()
        .max(2000, 'Duo redirect URI is at most 2000 characters.')
        .refine(isHttpUrl, 'Duo redirect URI must be an absolute http(s) URL, such as https://portal.example.com/mfa/duo/callback.'),
    ),
    /** Read-only, as GET returns it: accepted when it agrees with what is stored. */
    hasSecret: z
      .boolean('hasSecret must be true or false (it is read-only: send clientSecret to store one).')
      .meta({ readOnly: true, description: 'Read-only, as GET returns it: accepted when it agrees with what is stored.' })
      .optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown Duo setting: ${issue.keys.join(', ')}.` : 'Duo settings must be an object.') },
);

export const settingsSchema = z.strictObject(
  {
    totp: z.boolean('TOTP must be enabled (true) or disabled (false).'),
    webauthn: z.boolean('WebAuthn must be enabled (true) or disabled (false).'),
    duo: z.boolean('Duo must be enabled (true) or disabled (false).'),
    challengeEnrolled: z
      .boolean('Challenging enrolled users must be on (true) or off (false).')
      .meta({ description: 'R-D11: users who have a factor are challenged at sign-in even when nothing requires MFA. Default true; omitted keeps the stored value.' })
      .optional(),
    adminReverifyMinutes: z
      .number('Admin re-verification must be a whole number of minutes.')
      .int('Admin re-verification must be a whole number of minutes.')
      .min(minReverifyMinutes, adminReverifyRangeMessage)
      .max(maxReverifyMinutes, adminReverifyRangeMessage)
      .meta({ description: 'The admin console asks for a second factor again when the last one is older than this many minutes (5 … 43200; default 720, 12 hours). Omitted keeps the stored value.' })
      .optional(),
    duoConfig: duoConfigSchema.optional(),
    /** Read-only, as GET returns it (RFC 3339 or null; milliseconds from the console): ignored when unchanged. */
    updatedAt: z
      .union([z.string(), z.number(), z.null()], 'updatedAt is read-only: leave it out.')
      .meta({ readOnly: true, description: 'Read-only, as GET returns it: ignored when unchanged, refused when the settings were saved since.' })
      .optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown setting: ${issue.keys.join(', ')}.` : 'Expected an MFA settings object.') },
);

export type MfaSettingsInput = z.input<typeof settingsSchema>;

/** Whether a read-only `updatedAt` sent back names the stored time (0 = never saved = null). */
function sameTime(sent: string | number | null, stored: number): boolean {
  const storedOrNull = stored === 0 ? null : stored;
  if (sent === null || storedOrNull === null) return sent === storedOrNull;
  return (typeof sent === 'number' ? sent : Date.parse(sent)) === storedOrNull;
}

function viewOf(row: MfaSettingsRow): MfaSettingsView {
  return {
    totp: row.totp_enabled === 1,
    webauthn: row.webauthn_enabled === 1,
    duo: row.duo_enabled === 1,
    challengeEnrolled: row.challenge_enrolled === 1,
    adminReverifyMinutes: row.admin_reverify_minutes,
    duoConfig: {
      clientId: row.duo_client_id,
      apiHost: row.duo_api_host,
      redirectUri: row.duo_redirect_uri,
      hasSecret: row.duo_client_secret_enc !== null,
    },
    updatedAt: row.updated_at === 0 ? null : row.updated_at,
  };
}

/** The settings for the console and GET /api/v1/settings/mfa. Never includes the Duo secret. */
export async function getMfaSettings(db: Kysely<Database>): Promise<MfaSettingsView> {
  return viewOf(await getMfaSettingsRow(db));
}

/**
 * Saves the org MFA settings (PUT semantics for the three switches; Duo fields left out
 * keep their stored values, an empty string clears one). Refused with per-field errors:
 * nothing enabled, WebAuthn alone (R-A2, the message from validateSettings()), Duo enabled
 * without client ID, secret (given now or stored), API hostname and redirect URI.
 */
export async function saveMfaSettings(
  db: Kysely<Database>,
  input: unknown,
  actor: Actor,
  clock: Clock,
  options: SaveMfaSettingsOptions,
): Promise<MfaSettingsView> {
  const data = parseInput(settingsSchema, input);
  const duo = data.duoConfig ?? {};
  const newSecret = duo.clientSecret ? duo.clientSecret : null;
  // Sealed before the transaction: a slow key service should not hold the database.
  const sealedSecret = newSecret === null ? null : await options.sealSecret(newSecret);

  const saved = await db.transaction().execute(async (trx) => {
    // First: the config version's row lock orders this save against a policy save, so a
    // phishing-resistant policy and WebAuthn turned off cannot pass each other's checks.
    await bumpConfigVersion(trx);
    const current = await getMfaSettingsRow(trx);
    const next: Omit<MfaSettingsRow, 'id'> = {
      totp_enabled: data.totp ? 1 : 0,
      webauthn_enabled: data.webauthn ? 1 : 0,
      duo_enabled: data.duo ? 1 : 0,
      duo_client_id: duo.clientId === undefined ? current.duo_client_id : duo.clientId,
      duo_client_secret_enc: sealedSecret ?? current.duo_client_secret_enc,
      duo_api_host: duo.apiHost === undefined ? current.duo_api_host : duo.apiHost,
      duo_redirect_uri: duo.redirectUri === undefined ? current.duo_redirect_uri : duo.redirectUri,
      challenge_enrolled: data.challengeEnrolled === undefined ? current.challenge_enrolled : data.challengeEnrolled ? 1 : 0,
      admin_reverify_minutes: data.adminReverifyMinutes ?? current.admin_reverify_minutes,
      updated_at: clock.now(),
      updated_by: actor.id,
    };

    const fieldErrors: Record<string, string[]> = {};
    // Read-only fields: a PUT of what GET returned must succeed, a changed one is a mistake.
    // NOTE: compared with what is stored now, so GET's document plus a new clientSecret passes.
    if (duo.hasSecret !== undefined && duo.hasSecret !== (current.duo_client_secret_enc !== null)) {
      fieldErrors['duoConfig.hasSecret'] = ['hasSecret is read-only: send clientSecret to store a new secret.'];
    }
    if (data.updatedAt !== undefined && !sameTime(data.updatedAt, current.updated_at)) {
      fieldErrors.updatedAt = ['updatedAt is read-only, and the settings were saved since this value was read: read them again, or leave it out.'];
    }
    const methodError = validateSettings({ totp: data.totp, webauthn: data.webauthn, duo: data.duo });
    if (methodError !== null) fieldErrors[methodError === webauthnOnlyError ? 'webauthn' : '_'] = [methodError];
    let webauthnError: string | null = null;
    if (!data.webauthn && current.webauthn_enabled === 1) {
      // Issue 18: refused rather than leaving ON policies that nobody could satisfy (the gate would deny).
      const needing = (await loadPolicyRecords(trx)).filter((p) => p.enabled && p.action === 'require_mfa' && p.strength === 'phishing_resistant');
      if (needing.length > 0) {
        webauthnError = webauthnNeededBy(needing.map((p) => p.name));
        (fieldErrors.webauthn ??= []).push(webauthnError);
      }
    }
    if (data.duo) {
      if (!next.duo_client_id) fieldErrors['duoConfig.clientId'] = ['Duo needs a client ID.'];
      if (!next.duo_client_secret_enc) fieldErrors['duoConfig.clientSecret'] = ['Duo needs a client secret.'];
      if (!next.duo_api_host) fieldErrors['duoConfig.apiHost'] = ['Duo needs an API hostname, such as api-xxxxxxxx.duosecurity.com.'];
      if (!next.duo_redirect_uri) fieldErrors['duoConfig.redirectUri'] = ['Duo needs a redirect URI.'];
    }
    if (Object.keys(fieldErrors).length > 0) throw new ValidationError(fieldErrors, methodError ?? webauthnError ?? undefined);

    await updateMfaSettingsRow(trx, next);
    await writeAudit(trx, {
      at: next.updated_at,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'settings.mfa_saved',
      targetType: 'settings',
      targetId: 'mfa',
      // NOTE: whether the secret changed, never the secret (sealed or not).
      details: {
        totp: data.totp,
        webauthn: data.webauthn,
        duo: data.duo,
        challengeEnrolled: next.challenge_enrolled === 1,
        adminReverifyMinutes: next.admin_reverify_minutes,
        duoClientId: next.duo_client_id,
        duoApiHost: next.duo_api_host,
        duoRedirectUri: next.duo_redirect_uri,
        duoSecretChanged: sealedSecret !== null,
      },
      clientIp: actor.clientIp,
    });
    return viewOf({ id: 1, ...next });
  });
  // Which factors count as enrolled follows the methods enabled here.
  invalidateUserCounts(db);
  return saved;
}

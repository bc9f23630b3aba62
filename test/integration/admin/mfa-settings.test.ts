import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { ValidationError } from '../../../lib/admin/errors';
import { getMfaSettings, saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { getConfigVersion, loadDuoConfig, loadMfaSettings } from '../../../db/queries/settings';
import { webauthnOnlyError } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };

// A real seal for the test; lib/crypto will own the production one.
const key = randomBytes(32);
function seal(plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}
function unseal(sealed: string): string {
  const [, iv, tag, body] = sealed.split('.').map((p, i) => (i === 0 ? Buffer.alloc(0) : Buffer.from(p, 'base64url')));
  const decipher = createDecipheriv('aes-256-gcm', key, iv!);
  decipher.setAuthTag(tag!);
  return Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8');
}

const duoSecret = 'S'.repeat(20) + 'ecret0123456789ABCDE';
const duoConfig = {
  clientId: 'DIWJ8X6AEYOR5OMC6TQ1',
  clientSecret: duoSecret,
  apiHost: 'API-1234abcd.duosecurity.com',
  redirectUri: 'https://portal.example.com/mfa/duo/callback',
};

describe.each(dialects)('org MFA settings (R-A1, R-A2) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const sealed: string[] = [];
  const options = {
    sealSecret: (plain: string) => {
      const s = seal(plain);
      sealed.push(s);
      return s;
    },
  };

  async function fieldErrorsOf(promise: Promise<unknown>): Promise<ValidationError> {
    const error = await promise.then(
      () => {
        throw new Error('expected a ValidationError');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }

  beforeEach(async () => {
    clock.set(start);
    sealed.length = 0;
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  it('starts with TOTP only, no Duo configuration', async () => {
    expect(await getMfaSettings(db.kysely)).toEqual({
      totp: true,
      webauthn: false,
      duo: false,
      challengeEnrolled: true, // R-D11: on by default
      adminReverifyMinutes: 720, // issue 18: the console re-verifies every 12 hours
      duoConfig: { clientId: null, apiHost: null, redirectUri: null, hasSecret: false },
      updatedAt: null,
    });
    expect(await loadMfaSettings(db.kysely)).toEqual({ totp: true, webauthn: false, duo: false, challengeEnrolled: true });
  });

  it('TOTP + WebAuthn is saved, audited and bumps the config version', async () => {
    const version = await getConfigVersion(db.kysely);
    const saved = await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, admin, clock, options);
    expect(saved).toMatchObject({ totp: true, webauthn: true, duo: false, updatedAt: start });
    expect(await loadMfaSettings(db.kysely)).toEqual({ totp: true, webauthn: true, duo: false, challengeEnrolled: true });
    expect(await getConfigVersion(db.kysely)).toBe(version + 1);
    const entries = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'settings.mfa_saved').execute();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor_id: admin.id, client_ip: admin.clientIp, at: start });
  });

  it('WebAuthn alone is refused with the R-A2 message, and nothing changes', async () => {
    const version = await getConfigVersion(db.kysely);
    const error = await fieldErrorsOf(saveMfaSettings(db.kysely, { totp: false, webauthn: true, duo: false }, admin, clock, options));
    expect(error.message).toBe(webauthnOnlyError);
    expect(error.message).toBe('WebAuthn cannot be the only enabled method: enable TOTP or Duo as well.');
    expect(error.fieldErrors).toEqual({ webauthn: [webauthnOnlyError] });
    expect(await loadMfaSettings(db.kysely)).toEqual({ totp: true, webauthn: false, duo: false, challengeEnrolled: true });
    expect(await getConfigVersion(db.kysely)).toBe(version);
    expect(await db.kysely.selectFrom('audit_log').selectAll().execute()).toHaveLength(0);
  });

  it('nothing enabled is refused', async () => {
    const error = await fieldErrorsOf(saveMfaSettings(db.kysely, { totp: false, webauthn: false, duo: false }, admin, clock, options));
    expect(error.fieldErrors._).toEqual(['Enable at least one MFA method: TOTP, WebAuthn or Duo.']);
  });

  it('Duo + WebAuthn with a full Duo configuration: the secret is sealed, never returned, never audited', async () => {
    const saved = await saveMfaSettings(db.kysely, { totp: false, webauthn: true, duo: true, duoConfig }, admin, clock, options);
    expect(saved).toEqual({
      totp: false,
      webauthn: true,
      duo: true,
      challengeEnrolled: true,
      adminReverifyMinutes: 720,
      duoConfig: {
        clientId: duoConfig.clientId,
        apiHost: 'api-1234abcd.duosecurity.com',
        redirectUri: duoConfig.redirectUri,
        hasSecret: true,
      },
      updatedAt: start,
    });
    expect(JSON.stringify(saved)).not.toContain(duoSecret);
    expect(JSON.stringify(await getMfaSettings(db.kysely))).not.toContain(duoSecret);
    const stored = await loadDuoConfig(db.kysely);
    expect(stored.clientSecretSealed).toBe(sealed[0]);
    expect(stored.clientSecretSealed).not.toContain(duoSecret);
    expect(unseal(stored.clientSecretSealed!)).toBe(duoSecret);
    const audit = await db.kysely.selectFrom('audit_log').selectAll().execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).not.toContain(duoSecret);
    expect(audit[0]!.details).not.toContain(sealed[0]!);
    expect(JSON.parse(audit[0]!.details!)).toMatchObject({ duo: true, duoSecretChanged: true });
  });

  it('a later save without a secret keeps the stored one; switching Duo off keeps its configuration', async () => {
    await saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: true, duoConfig }, admin, clock, options);
    const { clientSecret: _omit, ...withoutSecret } = duoConfig;
    await saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: true, duoConfig: withoutSecret }, admin, clock, options);
    await saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: false }, admin, clock, options);
    expect(sealed).toHaveLength(1);
    const view = await getMfaSettings(db.kysely);
    expect(view.duo).toBe(false);
    expect(view.duoConfig).toMatchObject({ clientId: duoConfig.clientId, hasSecret: true });
    expect(unseal((await loadDuoConfig(db.kysely)).clientSecretSealed!)).toBe(duoSecret);
  });

  it('Duo without a client id is refused, naming each missing field', async () => {
    const error = await fieldErrorsOf(
      saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: true, duoConfig: { apiHost: 'api-x.duosecurity.com' } }, admin, clock, options),
    );
    expect(error.fieldErrors).toEqual({
      'duoConfig.clientId': ['Duo needs a client ID.'],
      'duoConfig.clientSecret': ['Duo needs a client secret.'],
      'duoConfig.redirectUri': ['Duo needs a redirect URI.'],
    });
    expect(sealed).toHaveLength(0);
    expect((await getMfaSettings(db.kysely)).duoConfig.apiHost).toBeNull();
  });

  it.each([
    ['a short client id', { clientId: 'DI123' }, 'duoConfig.clientId'],
    ['a short secret', { clientSecret: 'too-short' }, 'duoConfig.clientSecret'],
    ['a host with a path', { apiHost: 'api-x.duosecurity.com/oauth' }, 'duoConfig.apiHost'],
    ['a relative redirect', { redirectUri: '/mfa/duo/callback' }, 'duoConfig.redirectUri'],
    ['a javascript: redirect', { redirectUri: 'javascript:alert(1)' }, 'duoConfig.redirectUri'],
  ])('refuses %s', async (_name, change, field) => {
    const error = await fieldErrorsOf(
      saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: true, duoConfig: { ...duoConfig, ...change } }, admin, clock, options),
    );
    expect(Object.keys(error.fieldErrors)).toEqual([field]);
    expect(JSON.stringify(error.fieldErrors)).not.toContain('too-short');
  });

  it('a local fake Duo host with a port is accepted', async () => {
    const saved = await saveMfaSettings(
      db.kysely,
      { totp: true, webauthn: false, duo: true, duoConfig: { ...duoConfig, apiHost: '127.0.0.1:8443', redirectUri: 'http://localhost:3000/cb' } },
      admin,
      clock,
      options,
    );
    expect(saved.duoConfig.apiHost).toBe('127.0.0.1:8443');
  });

  it('refuses missing switches and unknown settings', async () => {
    const error = await fieldErrorsOf(saveMfaSettings(db.kysely, { totp: 'yes', duo: false, sms: true }, admin, clock, options));
    expect(Object.keys(error.fieldErrors).sort()).toEqual(['_', 'totp', 'webauthn']);
  });
  it('R-D11: the own-factor challenge is switched off and on, audited, and an omitted switch keeps what is stored', async () => {
    const version = await getConfigVersion(db.kysely);
    expect((await saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: false, challengeEnrolled: false }, admin, clock, options)).challengeEnrolled).toBe(false);
    expect((await loadMfaSettings(db.kysely)).challengeEnrolled).toBe(false);
    expect(await getConfigVersion(db.kysely)).toBe(version + 1);
    expect((await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, admin, clock, options)).challengeEnrolled).toBe(false);
    const audit = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'settings.mfa_saved').orderBy('id').execute();
    expect(audit.map((e) => JSON.parse(e.details!).challengeEnrolled)).toEqual([false, false]);
    await expect(saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: false, challengeEnrolled: 'yes' }, admin, clock, options)).rejects.toMatchObject({
      fieldErrors: { challengeEnrolled: [expect.stringContaining('on (true) or off (false)')] },
    });
  });

  it('a save of exactly what getMfaSettings() returned succeeds: read-only fields unchanged, nulls for unset Duo fields', async () => {
    const unset = await getMfaSettings(db.kysely);
    const resaved = await saveMfaSettings(db.kysely, JSON.parse(JSON.stringify(unset)), admin, clock, options);
    expect({ ...resaved, updatedAt: null }).toEqual(unset);

    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: true, duoConfig }, admin, clock, options);
    clock.advance(60_000);
    const configured = await getMfaSettings(db.kysely);
    const again = await saveMfaSettings(db.kysely, { ...configured, updatedAt: new Date(configured.updatedAt!).toISOString() }, admin, clock, options);
    expect(again).toMatchObject({ duoConfig: { hasSecret: true, clientId: duoConfig.clientId } });
    expect((await loadDuoConfig(db.kysely)).clientSecretSealed).toBe(sealed[0]);
  });

  it('read-only fields that were changed are refused, naming the field', async () => {
    const view = await getMfaSettings(db.kysely);
    const hasSecret = await saveMfaSettings(db.kysely, { ...view, duoConfig: { ...view.duoConfig, hasSecret: true } }, admin, clock, options).catch((e) => e);
    expect(hasSecret.fieldErrors).toEqual({ 'duoConfig.hasSecret': [expect.stringContaining('hasSecret is read-only')] });
    const stale = await saveMfaSettings(db.kysely, { ...view, updatedAt: '2020-01-01T00:00:00.000Z' }, admin, clock, options).catch((e) => e);
    expect(Object.keys(stale.fieldErrors)).toEqual(['updatedAt']);
  });
});

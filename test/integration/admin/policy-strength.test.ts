import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../db';
import { manualClock } from '../../../lib/clock';
import type { Actor } from '../../../lib/admin/actor';
import { ValidationError } from '../../../lib/admin/errors';
import { getMfaSettings, saveMfaSettings } from '../../../lib/admin/mfa-settings';
import { createPolicy, getPolicy, phishingResistantNeedsWebauthn, setPolicyEnabled, updatePolicy } from '../../../lib/admin/policies';
import { loadPolicyRecords } from '../../../db/queries/policies';
import { loadAdminReverifyMinutes } from '../../../db/queries/settings';
import { compilePolicies } from '../../../lib/policy';
import { dialects, freshDb } from '../support/dialects';
import { apiWorld, expectJson, expectProblem, type ApiWorld } from '../api/support';

/** Issue 18 parts 1 and 2, as the policy and settings services store and refuse them. */

const start = Date.UTC(2026, 11, 3, 9, 0, 0);
const admin: Actor = { id: 'admin-ada', label: 'ada.admin', clientIp: '198.51.100.7' };
const options = { sealSecret: (plain: string) => `sealed:${plain.length}` };

const billingKeys = {
  name: 'Billing needs a key',
  enabled: true,
  resources: ['billing'],
  action: 'require_mfa',
  strength: 'phishing_resistant',
  reverifyMinutes: 60,
};

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ValidationError');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe.each(dialects)('authentication strength and re-verification (issue 18) on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const webauthnOn = { totp: true, webauthn: true, duo: false };
  const webauthnOff = { totp: true, webauthn: false, duo: false };

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
  });
  afterEach(async () => {
    await db.close();
  });

  it('stores strength and N, returns them, audits them, and the gate compiles them', async () => {
    await saveMfaSettings(db.kysely, webauthnOn, admin, clock, options);
    const created = await createPolicy(db.kysely, billingKeys, admin, clock);
    expect(created).toMatchObject({ strength: 'phishing_resistant', reverifyMinutes: 60 });
    expect(await getPolicy(db.kysely, created.id)).toEqual(created);
    const [compiled] = compilePolicies(await loadPolicyRecords(db.kysely));
    expect([compiled!.phishingResistant, compiled!.reverifyMs]).toEqual([true, 60 * 60_000]);

    const updated = await updatePolicy(db.kysely, created.id, { strength: 'any', reverifyMinutes: 43_200 }, admin, clock);
    expect(updated).toMatchObject({ strength: 'any', reverifyMinutes: 43_200 });
    const entry = await db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'policy.updated').executeTakeFirstOrThrow();
    expect(JSON.parse(entry.details as string)).toMatchObject({ changed: ['strength', 'reverifyMinutes'], after: { strength: 'any', reverifyMinutes: 43_200 } });
  });

  it('a policy without them is "any", with no re-verification', async () => {
    const plain = await createPolicy(db.kysely, { name: 'Portal MFA', resources: ['portal'], action: 'require_mfa' }, admin, clock);
    expect(plain).toMatchObject({ strength: 'any', reverifyMinutes: null });
  });

  it('refuses N outside 5 minutes … 30 days, and strength or N on an allow or deny policy', async () => {
    for (const reverifyMinutes of [4, 43_201, 1.5, '60']) {
      const err = await refusal(createPolicy(db.kysely, { ...billingKeys, strength: 'any', reverifyMinutes }, admin, clock));
      expect(Object.keys(err.fieldErrors)).toEqual(['reverifyMinutes']);
    }
    const err = await refusal(createPolicy(db.kysely, { ...billingKeys, action: 'deny' }, admin, clock));
    expect(Object.keys(err.fieldErrors).sort()).toEqual(['reverifyMinutes', 'strength']);
    expect(await refusal(createPolicy(db.kysely, { ...billingKeys, strength: 'strongest' }, admin, clock))).toHaveProperty('fieldErrors.strength');
  });

  it('switching a policy to deny drops its strength and N', async () => {
    await saveMfaSettings(db.kysely, webauthnOn, admin, clock, options);
    const created = await createPolicy(db.kysely, billingKeys, admin, clock);
    expect(await updatePolicy(db.kysely, created.id, { action: 'deny' }, admin, clock)).toMatchObject({ action: 'deny', strength: 'any', reverifyMinutes: null });
  });

  it('refuses a phishing-resistant policy while WebAuthn is disabled org-wide, with a clear message, and stores nothing', async () => {
    const err = await refusal(createPolicy(db.kysely, billingKeys, admin, clock));
    expect(err.message).toBe(phishingResistantNeedsWebauthn);
    expect(err.fieldErrors.strength).toEqual([phishingResistantNeedsWebauthn]);
    expect(await loadPolicyRecords(db.kysely)).toEqual([]);
  });

  it('refuses turning WebAuthn off while a phishing-resistant policy is ON, and allows it once the policy is OFF', async () => {
    await saveMfaSettings(db.kysely, webauthnOn, admin, clock, options);
    const created = await createPolicy(db.kysely, billingKeys, admin, clock);
    const err = await refusal(saveMfaSettings(db.kysely, webauthnOff, admin, clock, options));
    expect(err.fieldErrors.webauthn?.[0]).toContain('"Billing needs a key"');
    expect((await getMfaSettings(db.kysely)).webauthn).toBe(true);

    await setPolicyEnabled(db.kysely, created.id, false, admin, clock);
    await saveMfaSettings(db.kysely, webauthnOff, admin, clock, options);
    // With WebAuthn off the OFF policy cannot be switched back ON, by either path.
    const viaSwitch = await refusal(setPolicyEnabled(db.kysely, created.id, true, admin, clock));
    expect(viaSwitch.message).toBe(phishingResistantNeedsWebauthn);
    await refusal(updatePolicy(db.kysely, created.id, { enabled: true }, admin, clock));
    expect((await getPolicy(db.kysely, created.id)).enabled).toBe(false);
  });

  it('the admin console re-verifies every 12 hours by default; the org can change it within 5 minutes … 30 days', async () => {
    expect((await getMfaSettings(db.kysely)).adminReverifyMinutes).toBe(720);
    expect(await loadAdminReverifyMinutes(db.kysely)).toBe(720);
    await saveMfaSettings(db.kysely, { ...webauthnOff, adminReverifyMinutes: 30 }, admin, clock, options);
    expect(await loadAdminReverifyMinutes(db.kysely)).toBe(30);
    // Omitted keeps the stored value.
    await saveMfaSettings(db.kysely, webauthnOff, admin, clock, options);
    expect(await loadAdminReverifyMinutes(db.kysely)).toBe(30);
    for (const adminReverifyMinutes of [4, 43_201, null]) {
      const err = await refusal(saveMfaSettings(db.kysely, { ...webauthnOff, adminReverifyMinutes }, admin, clock, options));
      expect(Object.keys(err.fieldErrors)).toEqual(['adminReverifyMinutes']);
    }
  });

  it('the database itself refuses an out-of-range N or an unknown strength', async () => {
    await saveMfaSettings(db.kysely, webauthnOn, admin, clock, options);
    const created = await createPolicy(db.kysely, billingKeys, admin, clock);
    await expect(db.kysely.updateTable('policies').set({ reverify_minutes: 1 }).where('id', '=', created.id).execute()).rejects.toThrow();
    await expect(
      db.kysely.updateTable('policies').set({ strength: 'strongest' as 'any' }).where('id', '=', created.id).execute(),
    ).rejects.toThrow();
    await expect(db.kysely.updateTable('mfa_settings').set({ admin_reverify_minutes: 0 }).execute()).rejects.toThrow();
  });
});

describe.each(dialects)('strength and re-verification over /api/v1 on %s', (dialect) => {
  let world: ApiWorld;
  beforeEach(async () => {
    world = await apiWorld(dialect);
  });
  afterEach(async () => {
    await world.close();
  });

  it('POST refuses a phishing-resistant policy while WebAuthn is off (400, the message), then stores it once WebAuthn is on; PUT settings refuses WebAuthn off under it', async () => {
    const refused = await expectProblem(await world.call('POST', '/policies', { body: billingKeys }), 400);
    expect(refused.detail).toBe(phishingResistantNeedsWebauthn);
    expect(refused.errors).toEqual({ strength: [phishingResistantNeedsWebauthn] });

    await expectJson(await world.call('PUT', '/settings/mfa', { body: { totp: true, webauthn: true, duo: false } }), 200);
    const created = await expectJson(await world.call('POST', '/policies', { body: billingKeys }), 201);
    expect(created).toMatchObject({ strength: 'phishing_resistant', reverifyMinutes: 60 });
    const patched = await expectJson(await world.call('PATCH', `/policies/${created.id}`, { body: { reverifyMinutes: null } }), 200);
    expect(patched).toMatchObject({ strength: 'phishing_resistant', reverifyMinutes: null });
    expect((await expectProblem(await world.call('PATCH', `/policies/${created.id}`, { body: { reverifyMinutes: 3 } }), 400)).errors).toHaveProperty('reverifyMinutes');

    const off = await expectProblem(await world.call('PUT', '/settings/mfa', { body: { totp: true, webauthn: false, duo: false } }), 400);
    expect(off.errors.webauthn[0]).toContain('"Billing needs a key"');
  });

  it('the OpenAPI document describes strength, reverifyMinutes and adminReverifyMinutes', async () => {
    const doc = JSON.stringify(await expectJson(await world.call('GET', '/openapi.json', { key: world.readKey }), 200));
    for (const field of ['"strength"', '"phishing_resistant"', '"reverifyMinutes"', '"adminReverifyMinutes"']) expect(doc).toContain(field);
  });
});

import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { insertEnrolledTotp, seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';
import { authenticatorApp } from './support/totp-codes';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { createPolicy } from '../../lib/admin/policies';
import type { AmrEntry } from '../../lib/policy';

/*
 * Issue 18 parts 1 and 2 in Chromium with its virtual authenticator. Kim has an
 * authenticator app and adds a security key. The Demo App (resource "demo") is under a
 * phishing-resistant policy and a second policy that asks for a second factor within the
 * last 5 minutes; the portal asks only for her own factor (R-D11).
 * - She adds the key from /portal/security, then signs in again with her app.
 * - Her TOTP session is stepped up to the key on the Demo App: only the key is offered.
 * - Once her key's time is older than 5 minutes (the amr times in her session row moved
 *   back, as time passing would), the Demo App asks again; the key passes it in the same
 *   session (no new sign-in).
 */
const password = 'correct horse battery';
const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
let portal: Portal;
let base: string;
let kimId: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  base = `http://localhost:${portal.port}`; // WebAuthn needs a secure context with a valid RP ID
  await portal.restart({ env: { PORTCULLIS_ORIGIN: base } });
  ({ kim: kimId } = await seedUsers(portal.databaseUrl, [{ username: 'kim', password, state: 'active' }]));
  await withDb(portal.databaseUrl, async (db) => {
    await insertEnrolledTotp(db.kysely, { userId: kimId!, secret, portalSecret: portal.secret, name: 'Kim’s phone', id: 'factor-kim' });
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, cliActor, systemClock, { sealSecret: (p) => p });
    const demo = { enabled: true, resources: ['demo'], action: 'require_mfa' };
    await createPolicy(db.kysely, { ...demo, name: 'Demo needs a key', strength: 'phishing_resistant' }, cliActor, systemClock);
    await createPolicy(db.kysely, { ...demo, name: 'Demo every 5 minutes', reverifyMinutes: 5 }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

async function addAuthenticator(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return cdp;
}

async function kimSession() {
  return withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('sessions').select(['id', 'created_at', 'amr']).where('user_id', '=', kimId).execute(),
  );
}

test('Kim, signed in with her app, is stepped up to her security key on the Demo App, then asked again after 5 minutes', async ({ page }) => {
  await addAuthenticator(page);
  const app = authenticatorApp(secret);

  // The portal takes her app (R-D11: her own factor, any strength).
  await signIn(page, base, 'kim', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(await app.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, 'kim');

  // She adds a security key (her TOTP is fresh enough for adding a factor).
  await page.goto(`${base}/portal/security`);
  await page.getByRole('button', { name: 'Add a security key' }).click();
  await page.getByLabel('Key name').fill('Kim’s key');
  await page.getByRole('button', { name: 'Register security key' }).click();
  await expect(page.getByRole('status')).toHaveText('Added “Kim’s key”.');

  // A new sign-in with her app: this session passed TOTP, not her key.
  // (Registering the key counted as passing it, so the first session would not show the step-up.)
  await page.context().clearCookies();
  await withDb(portal.databaseUrl, (db) => db.kysely.deleteFrom('sessions').where('user_id', '=', kimId).execute());
  await signIn(page, base, 'kim', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(await app.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, 'kim');

  // The Demo App asks for the key, and only the key.
  await page.goto(`${base}/apps/demo`);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await expect(page.getByTestId('key-only')).toBeVisible();
  await expect(page.getByLabel('Verification code')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Use a recovery code' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expect(page.getByRole('heading', { name: 'Demo App' })).toBeVisible();

  const [before] = await kimSession();
  const amrBefore = JSON.parse(before!.amr) as AmrEntry[];
  expect(amrBefore.map((e) => e.method).sort()).toEqual(['pwd', 'totp', 'webauthn']);

  // Six minutes pass: every time in her session row moves back by six minutes.
  const sixMinutes = 6 * 60_000;
  await withDb(portal.databaseUrl, (db) =>
    db.kysely
      .updateTable('sessions')
      .set({ amr: JSON.stringify(amrBefore.map((e) => ({ ...e, at: e.at - sixMinutes }))) })
      .where('id', '=', before!.id)
      .execute(),
  );
  // The portal still lets her in (no policy asks it for a recent factor)…
  await page.goto(`${base}/portal`);
  await expectPortal(page, 'kim');
  // …the Demo App asks again, key only, and she stays signed in (no sign-in page).
  await page.goto(`${base}/apps/demo`);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await expect(page.getByTestId('key-only')).toBeVisible();
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expect(page.getByRole('heading', { name: 'Demo App' })).toBeVisible();

  // The same session: one row, its creation and password time unchanged, the key's time new.
  const after = await kimSession();
  expect(after).toHaveLength(1);
  expect(after[0]!.created_at).toBe(before!.created_at);
  const amrAfter = JSON.parse(after[0]!.amr) as AmrEntry[];
  expect(amrAfter.find((e) => e.method === 'pwd')!.at).toBe(amrBefore.find((e) => e.method === 'pwd')!.at - sixMinutes);
  expect(amrAfter.find((e) => e.method === 'webauthn')!.at).toBeGreaterThan(amrBefore.find((e) => e.method === 'webauthn')!.at);
});

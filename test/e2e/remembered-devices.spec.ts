import { expect, test, type Page } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { insertEnrolledTotp, seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';
import { authenticatorApp } from './support/totp-codes';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { createPolicy } from '../../lib/admin/policies';

/*
 * Issue 18 part 3 in Chromium. Tina has an authenticator app; the User Portal is under a
 * require-MFA policy that allows "don't ask again on this device for 30 days".
 * - She ticks the box at her challenge: the device cookie is HttpOnly and SameSite=Lax.
 * - Signed out and in again, the portal skips the challenge (R-D15).
 * - She forgets the device on /portal/security: that session, which rode on it, is asked for
 *   her second factor at once, and so is the next sign-in.
 */
const password = 'correct horse battery';
const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
let portal: Portal;
let tinaId: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  ({ tina: tinaId } = await seedUsers(portal.databaseUrl, [{ username: 'tina', password, state: 'active' }]));
  await withDb(portal.databaseUrl, async (db) => {
    await insertEnrolledTotp(db.kysely, { userId: tinaId!, secret, portalSecret: portal.secret, name: 'Tina’s phone', id: 'factor-tina' });
    await createPolicy(db.kysely, { name: 'Portal remembers', enabled: true, resources: ['portal'], action: 'require_mfa', rememberDays: 30 }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
}

test('Tina ticks "don\'t ask again", skips the next challenge, then forgets the device and is challenged again', async ({ page }) => {
  const app = authenticatorApp(secret);

  await signIn(page, portal.url, 'tina', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Don’t ask again on this device for 30 days').check();
  await page.getByLabel('Verification code').fill(await app.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, 'tina');
  const device = (await page.context().cookies()).find((c) => c.name === 'portcullis.device');
  expect(device).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
  expect(device!.expires - Date.now() / 1000).toBeGreaterThan(29 * 86_400);

  // The next sign-in on this browser goes straight to the portal.
  await signOut(page);
  await signIn(page, portal.url, 'tina', password);
  await expectPortal(page, 'tina');

  // She forgets it on /portal/security.
  await page.goto(`${portal.url}/portal/security`);
  const devices = page.getByRole('table', { name: 'Remembered devices' });
  await expect(devices.getByRole('row')).toHaveCount(2); // the header and her one device
  await expect(devices.getByRole('cell', { name: 'Chrome', exact: true })).toBeVisible();
  await devices.getByRole('button', { name: /^Forget Chrome on / }).click();
  // This session rode on that device: at once it is asked for her second factor (fail closed).
  await expect(page).toHaveURL(/\/mfa\/verify\?returnTo=%2Fportal%2Fsecurity%3Fnotice%3Ddevice_forgotten/);
  await expect(page.getByRole('heading', { name: 'Verify it’s you' })).toBeVisible();

  // Signed out and in again, she is challenged, though the browser still sends the forgotten cookie.
  await signOut(page);
  expect((await page.context().cookies()).some((c) => c.name === 'portcullis.device')).toBe(true);
  await signIn(page, portal.url, 'tina', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);

  const audit = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').select('action').where('action', 'like', 'mfa.device%').orderBy('id').execute(),
  );
  expect(audit.map((a) => a.action)).toEqual(['mfa.device_remembered', 'mfa.device_forgotten']);
});

import { expect, test, type Page } from '@playwright/test';
import { authenticator } from 'otplib';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { newTotpSecret, totpSecretContext } from '../../lib/factors/totp';

/*
 * One's own second factor in a real browser: challenged at sign-in, and asked again before
 * a change to it. Nothing requires MFA of anyone here.
 * - Ada: an admin who set up TOTP. R-D11 (on by default): she is challenged at sign-in,
 *   and the demo app sees aal 2 afterwards.
 * - Pat: set up TOTP too. With the org setting off, the password alone reaches /portal; then
 *   R-E8: renaming his device sends him to confirm his second factor first, and back.
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;
const secrets: Record<string, string> = {};

test.describe.configure({ mode: 'serial' });

const currentStep = () => Math.floor(Date.now() / stepMs);
const codeNow = (secret: string) => authenticator.clone({ epoch: currentStep() * stepMs }).generate(secret);

test.beforeAll(async () => {
  portal = await startPortal();
  const ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin' },
    { username: 'pat', password, state: 'active' },
  ]);
  // Each set up TOTP earlier (as admin-console.spec.ts seeds Ada's phone): sealed with the
  // portal's own secret, its enrollment step long spent.
  const ring = createKeyring([portal.secret]);
  const now = Date.now();
  await withDb(portal.databaseUrl, async (db) => {
    for (const name of ['ada', 'pat']) {
      const secret = newTotpSecret();
      await insertTotpFactor(db.kysely, {
        id: `factor-${name}`,
        userId: ids[name]!,
        name: `${name}'s phone`,
        secretSealed: sealSecret(secret, totpSecretContext(ids[name]!), ring),
        enrolledStep: Math.floor(now / stepMs) - 10,
        now,
      });
      secrets[name] = secret;
    }
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

const usedStep: Record<string, number> = {};

/** Types the current code; waits for the next step first when this one was used (R-I3: once). */
async function typeCode(page: Page, secret: string) {
  while (usedStep[secret] === currentStep()) await page.waitForTimeout(500);
  usedStep[secret] = currentStep();
  await page.getByLabel('Verification code').fill(codeNow(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
}

test('R-D11: Ada, an admin with TOTP and no requirement, is challenged at sign-in; the demo app then sees aal 2', async ({ page }) => {
  await signIn(page, portal.url, 'ada', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  // Not yet through: the demo app's route sends her back to the challenge too.
  const before = await page.request.get(`${portal.url}/apps/demo/api/whoami`, { maxRedirects: 0 });
  expect(before.status()).not.toBe(200);
  await typeCode(page, secrets.ada!);
  await expectPortal(page, 'ada');
  const whoami = await page.request.get(`${portal.url}/apps/demo/api/whoami`);
  expect(await whoami.json()).toEqual({ username: 'ada', aal: 2 });
});

test('with the org setting off, the password alone reaches /portal', async ({ page }) => {
  await withDb(portal.databaseUrl, (db) => saveMfaSettings(db.kysely, { totp: true, webauthn: false, duo: false, challengeEnrolled: false }, cliActor, systemClock, { sealSecret: (s) => s }));
  await signIn(page, portal.url, 'pat', password);
  await expectPortal(page, 'pat');
  const whoami = await page.request.get(`${portal.url}/apps/demo/api/whoami`);
  expect(await whoami.json()).toEqual({ username: 'pat', aal: 1 });
});

test('R-E8: Pat, signed in with the password alone, confirms his second factor before renaming his device, and comes back', async ({ page }) => {
  await signIn(page, portal.url, 'pat', password, '/portal/security');
  await expect(page).toHaveURL(/\/portal\/security$/);
  const rename = async (from: string, to: string) => {
    await page.getByLabel(`New name for ${from}`).fill(to);
    await page.getByRole('button', { name: `Rename ${from}` }).click();
  };
  await rename("pat's phone", 'Stolen phone');
  await expect(page).toHaveURL(/\/mfa\/verify\?.*fresh=1/);
  expect(new URL(page.url()).searchParams.get('why')).toBe('factor_change');
  await expect(page.getByRole('heading', { name: 'Confirm it’s you' })).toBeVisible();
  await typeCode(page, secrets.pat!);
  await expect(page).toHaveURL(/\/portal\/security/);
  await rename("pat's phone", 'Work phone');
  await expect(page.getByRole('status')).toContainText('Renamed.');
  await expect(page.getByRole('cell', { name: 'Work phone', exact: true })).toBeVisible();
});

test('R-E8: Pat\'s new password waits for a fresh second factor; then it is the one that signs in', async ({ page }) => {
  await signIn(page, portal.url, 'pat', password, '/portal/security');
  await expect(page).toHaveURL(/\/portal\/security$/);
  const change = async (newPassword = 'a much longer new passphrase') => {
    await page.getByLabel('Current password').fill(password);
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
  };
  await change();
  await expect(page).toHaveURL(/\/mfa\/verify\?.*why=factor_change/);
  await typeCode(page, secrets.pat!);
  await expect(page).toHaveURL(/\/portal\/security/);
  // A common password is refused, and the page says why.
  await change('Password123456789');
  await expect(pageAlert(page)).toHaveText('This password is on a list of common or breached passwords; choose another.');
  await change();
  await expect(page.getByRole('status')).toContainText('Password changed.');

  await page.context().clearCookies();
  await signIn(page, portal.url, 'pat', 'a much longer new passphrase');
  await expectPortal(page, 'pat');
});

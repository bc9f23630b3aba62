import { expect, test, type Page } from '@playwright/test';
import { codeAt, currentStep, wrongCode } from './support/totp-codes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';

/*
 * TOTP in a real browser (SPEC E). The test reads the key from the page, as a
 * person typing it into an app would, and computes codes with otplib. Personas:
 * - Frank, Lucy, Rita: in "Forced MFA", under a require-MFA policy (R-C7): no skip.
 * - Sonia: MFA required for her alone, period running: she may skip (R-D5) and enroll later.
 * - Nora: forced too, and her browser runs no JavaScript: every step is a plain form.
 */
const password = 'correct horse battery';
let portal: Portal;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  const ids = await seedUsers(
    portal.databaseUrl,
    ['frank', 'lucy', 'rita', 'sonia', 'nora'].map((username) => ({ username, password, state: 'active' as const })),
  );
  await withDb(portal.databaseUrl, async (db) => {
    const k = db.kysely;
    const forced = await createGroup(k, { name: 'Forced MFA' }, cliActor, systemClock);
    await setGroupMembers(k, forced.id, { userIds: [ids.frank, ids.lucy, ids.rita, ids.nora] }, cliActor, systemClock);
    await createPolicy(
      k,
      { name: 'Forced MFA', enabled: true, scope: 'groups', includeGroupIds: [forced.id], resources: ['portal'], action: 'require_mfa' },
      cliActor,
      systemClock,
    );
    await requireMfaForUsers(k, { userIds: [ids.sonia], enrollmentDays: 7 }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

interface Enrolled {
  secret: string;
  /** The step the enrollment code came from: spent, so sign-in uses the next one. */
  step: number;
  recoveryCodes: string[];
}

/** On the TOTP setup page: scan-by-typing the key, prove it, save the recovery codes. */
async function completeTotpSetup(page: Page, deviceName?: string): Promise<Enrolled> {
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  await expect(page.getByRole('img', { name: 'QR code' })).toBeVisible();
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  if (deviceName) await page.getByLabel('Device name').fill(deviceName);
  const step = currentStep();
  await page.getByLabel('Verification code').fill(codeAt(secret, step));
  await page.getByRole('button', { name: 'Verify' }).click();

  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  const recoveryCodes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  expect(recoveryCodes).toHaveLength(10);
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  return { secret, step, recoveryCodes };
}

/** Signs in and enrolls a forced user from the Set Up page; ends in the portal. */
async function enrollForced(page: Page, username: string): Promise<Enrolled> {
  await signIn(page, portal.url, username, password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Continue' }).click();
  const enrolled = await completeTotpSetup(page);
  await expectPortal(page, username);
  return enrolled;
}

async function signOut(page: Page) {
  await page.goto(`${portal.url}/portal`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

async function expectChallenge(page: Page) {
  await expect(page).toHaveURL(/\/mfa\/verify\?returnTo=%2Fportal/);
  await expect(page.getByLabel('Verification code')).toBeVisible();
}

/**
 * Loads the verify page anew. After a failed attempt React resets the form once the action
 * settles; typing into it in that instant could lose the code, so retries start fresh.
 */
async function freshVerifyPage(page: Page, method?: 'recovery') {
  await page.goto(`${portal.url}/mfa/verify?returnTo=%2Fportal${method ? `&method=${method}` : ''}`);
}

async function submitCode(page: Page, code: string) {
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

/** A sign-in with a recovery code lands on the lost-device page first; from there, on to the portal. */
async function continueAfterRecoveryCode(page: Page) {
  await expect(page).toHaveURL(/\/mfa\/recovered\?returnTo=%2Fportal$/);
  await page.getByRole('link', { name: 'Continue to where you were going' }).click();
}

async function submitRecoveryCode(page: Page, code: string) {
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

let frank: Enrolled;

test('Frank (forced) sets up TOTP from the QR page and continues to the portal (R-E1, R-E6, R-E7)', async ({ page }) => {
  frank = await enrollForced(page, 'frank');
  // Stored once, encrypted: the key he typed is nowhere in the database.
  const rows = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('factors').select(['type', 'secret_enc']).execute());
  expect(rows).toHaveLength(1);
  expect(rows[0]!.type).toBe('totp');
  expect(rows[0]!.secret_enc).not.toContain(frank.secret);
});

test('the next sign-in asks Frank for a code; a wrong one gets the message, the right one lets him in', async ({ page }) => {
  await signIn(page, portal.url, 'frank', password);
  await expectChallenge(page);
  await submitCode(page, wrongCode(frank.secret));
  await expect(pageAlert(page)).toHaveText('That code didn’t work. Check your authenticator app and try again.');
  // The enrollment code's step is spent: the app's next code is the one that works.
  await freshVerifyPage(page);
  await submitCode(page, codeAt(frank.secret, frank.step + 1));
  await expectPortal(page, 'frank');
  await page.goto(`${portal.url}/portal`);
  await expectPortal(page, 'frank');
});

test('a recovery code lets Frank in once; the second time it is refused', async ({ page }) => {
  await signIn(page, portal.url, 'frank', password);
  await expectChallenge(page);
  await submitRecoveryCode(page, frank.recoveryCodes[0]!);
  await continueAfterRecoveryCode(page);
  await expectPortal(page, 'frank');
  await signOut(page);

  await signIn(page, portal.url, 'frank', password);
  await expectChallenge(page);
  await submitRecoveryCode(page, frank.recoveryCodes[0]!);
  await expect(pageAlert(page)).toHaveText('That recovery code didn’t work. Check it and try again.');
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await freshVerifyPage(page, 'recovery');
  await page.getByLabel('Recovery code').fill(frank.recoveryCodes[1]!.toUpperCase());
  await page.getByRole('button', { name: 'Verify' }).click();
  await continueAfterRecoveryCode(page);
  await expectPortal(page, 'frank');
  const used = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'mfa.recovery_code_used').execute(),
  );
  expect(used).toHaveLength(2);
});

test('Lucy’s pending sign-in is held off after five wrong codes: even the right code must wait (R-I2)', async ({ page }) => {
  const lucy = await enrollForced(page, 'lucy');
  await signOut(page);
  await signIn(page, portal.url, 'lucy', password);
  await expectChallenge(page);
  const wrongGuesses = () =>
    withDb(portal.databaseUrl, async (db) =>
      (
        await db.kysely
          .selectFrom('audit_log')
          .select('details')
          .where('action', '=', 'mfa.verify_failed')
          .where('actor_label', '=', 'lucy')
          .execute()
      ).filter((row) => JSON.parse(row.details ?? '{}').reason === 'wrong').length,
    );
  for (let i = 1; i <= 5; i++) {
    await freshVerifyPage(page);
    await submitCode(page, wrongCode(lucy.secret));
    await expect(pageAlert(page)).toHaveText(/That code didn’t work/);
    await expect.poll(wrongGuesses).toBe(i);
  }
  await freshVerifyPage(page);
  await submitCode(page, codeAt(lucy.secret, lucy.step + 1));
  await expect(pageAlert(page)).toHaveText(/^Too many attempts from here\. Wait \d+ seconds and try again\.$/);
  await page.goto(`${portal.url}/portal`);
  await expectChallenge(page);
});

test('Rita cannot remove her only authenticator while MFA is required; she can rename it', async ({ page }) => {
  await enrollForced(page, 'rita');
  await page.getByRole('link', { name: 'Security settings' }).click();
  await expect(page.getByRole('heading', { name: 'Security' })).toBeVisible();
  const row = page.getByTestId('factor-row');
  await expect(row).toHaveCount(1);
  await expect(row.getByRole('cell').nth(0)).toHaveText('Authenticator app (TOTP)');
  await expect(row.getByRole('cell').nth(1)).toHaveText('Authenticator app');
  await expect(row.getByRole('cell').nth(2)).toHaveText(/UTC/);
  await expect(page.getByTestId('recovery-code-count')).toHaveText('10 of 10 recovery codes unused.');

  await page.getByLabel('New name for Authenticator app').fill('Rita’s phone');
  await page.getByRole('button', { name: 'Rename Authenticator app' }).click();
  await expect(page.getByRole('status')).toHaveText('Renamed.');
  await expect(row.getByRole('cell').nth(1)).toHaveText('Rita’s phone');

  // Her sign-in a moment ago counts as a fresh second factor, so only the rule stops her.
  await page.getByLabel('Remove Rita’s phone…').click(); // the confirm step first
  await page.getByRole('button', { name: 'Remove Rita’s phone' }).click();
  await expect(pageAlert(page)).toHaveText(/can’t remove your last sign-in method/);
  await expect(page.getByTestId('factor-row')).toHaveCount(1);
});

test('Sonia (soft) skips Set Up, then enrolls later from /portal/security', async ({ page }) => {
  await signIn(page, portal.url, 'sonia', password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await page.getByRole('button', { name: 'Skip for now' }).click();
  await expectPortal(page, 'sonia');

  await page.getByRole('link', { name: 'Security settings' }).click();
  await expect(page.getByText('You have no second factor yet.')).toBeVisible();
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  const sonia = await completeTotpSetup(page, 'Work phone');
  await expect(page).toHaveURL(`${portal.url}/portal/security?notice=mfa_set_up`);
  await expect(page.getByRole('status')).toHaveText(/^Done: multi-factor authentication is set up\./);
  await expect(page.getByTestId('factor-row').getByRole('cell').nth(1)).toHaveText('Work phone');

  // Enrolled now: the next sign-in is a challenge, not Set Up.
  await signOut(page);
  await signIn(page, portal.url, 'sonia', password);
  await expectChallenge(page);
  await submitCode(page, codeAt(sonia.secret, sonia.step + 1));
  await expectPortal(page, 'sonia');
});

test('Nora, without JavaScript, enrolls and signs in with plain forms', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  try {
    const nora = await enrollForced(page, 'nora');
    await signOut(page);
    await signIn(page, portal.url, 'nora', password);
    await expectChallenge(page);
    await submitCode(page, wrongCode(nora.secret));
    await expect(pageAlert(page)).toHaveText(/That code didn’t work/);
    await submitCode(page, codeAt(nora.secret, nora.step + 1));
    await expectPortal(page, 'nora');
    await signOut(page);
    await signIn(page, portal.url, 'nora', password);
    await submitRecoveryCode(page, nora.recoveryCodes[9]!);
    await continueAfterRecoveryCode(page);
    await expectPortal(page, 'nora');
  } finally {
    await context.close();
  }
});

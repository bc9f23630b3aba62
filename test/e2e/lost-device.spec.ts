import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb, insertEnrolledTotp } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { codeAt, currentStep } from './support/totp-codes';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { hashRecoveryCode, normalizeRecoveryCode } from '../../lib/factors/recovery-codes';

import { sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode } from '../../lib/factors/totp';
import { startSmtpSink, type SmtpSink } from '../integration/mail/support/smtp-sink';

/*
 * Lost device (issue 15, section 3), through the production build, with the portal's own
 * mail worker sending to an SMTP server inside this spec. Rita set up an authenticator app
 * and saved her recovery codes; then she lost her phone. She signs in with a recovery code,
 * lands on a page that says so, and sets up a new app there; her mail tells her both. Later
 * she spends her last code, is told so, and makes new ones on the spot. At last she loses
 * everything, and Ada the admin resets her TOTP from the console.
 */
const password = 'correct horse battery';
let portal: Portal;
let sink: SmtpSink;
let ids: Record<string, string>;
let recoveryCodes: string[];
let newApp: { secret: string; step: number };
const adaSecret = base32Encode(randomBytes(20));

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  sink = await startSmtpSink();
  portal = await startPortal({ env: { SMTP_URL: sink.url } });
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'rita', password, state: 'active', email: 'rita@example.com', displayName: 'Rita Levi' },
    { username: 'ada', password, state: 'active', role: 'admin' },
  ]);
  await withDb(portal.databaseUrl, async (db) => {
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, cliActor, systemClock, { sealSecret: async (s) => s });
    await insertEnrolledTotp(db.kysely, { userId: ids.ada!, secret: adaSecret, portalSecret: portal.secret });
  });
});

test.afterAll(async () => {
  await portal?.stop();
  await sink?.stop();
});

/** On the TOTP setup page: type the key into "the app", prove it with its code. */
async function setUpApp(page: Page, name: string): Promise<{ secret: string; step: number }> {
  await expect(page.getByRole('img', { name: 'QR code' })).toBeVisible();
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('Device name').fill(name);
  const step = currentStep();
  await page.getByLabel('Verification code').fill(codeAt(secret, step));
  await page.getByRole('button', { name: 'Verify' }).click();
  return { secret, step };
}

async function signOut(page: Page) {
  await page.goto(`${portal.url}/portal`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

async function signInWithRecoveryCode(page: Page, code: string) {
  await signIn(page, portal.url, 'rita', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?returnTo=%2Fportal/);
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

async function auditActions(action: string) {
  return withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('audit_log').selectAll().where('action', '=', action).where('target_id', '=', ids.rita!).execute());
}

test('Rita sets up an authenticator app and saves her recovery codes', async ({ page }) => {
  await signIn(page, portal.url, 'rita', password);
  await expectPortal(page, 'rita');
  await page.goto(`${portal.url}/portal/security`);
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  await setUpApp(page, 'Old phone');
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  recoveryCodes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  expect(recoveryCodes).toHaveLength(10);
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expect(page.getByTestId('recovery-code-count')).toHaveText('10 of 10 recovery codes unused.');
  await signOut(page);
});

test('her phone is lost: a recovery code lands her on a page that says so, where she sets up a new app; her mail says both', async ({ page }) => {
  await signInWithRecoveryCode(page, recoveryCodes[0]!);

  await expect(page).toHaveURL(`${portal.url}/mfa/recovered?returnTo=%2Fportal`);
  await expect(page.getByRole('heading', { name: 'Signed in with a recovery code' })).toBeVisible();
  await expect(page.getByTestId('recovery-status')).toHaveText('You signed in with a recovery code. 9 codes left.');
  await expect(pageAlert(page)).toHaveCount(0); // codes left: no warning
  await expect(page.getByRole('button', { name: 'Register a new security key' })).toBeVisible(); // WebAuthn is on
  await expect(page.getByRole('link', { name: 'Continue to where you were going' })).toHaveAttribute('href', '/portal');

  await page.getByRole('button', { name: 'Set up a new authenticator app' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  newApp = await setUpApp(page, 'New phone');
  // Another device, not a first one: no new codes, straight on to where she was going (R-E7).
  await expectPortal(page, 'rita');

  const used = await sink.waitFor((m) => m.to.includes('rita@example.com') && m.subject === 'A recovery code was used to sign in to your account', 30_000);
  expect(used.text).toContain('Hello Rita Levi,');
  expect(used.text).toContain('A recovery code was used to sign in to your account on');
  const added = await sink.waitFor((m) => m.to.includes('rita@example.com') && m.subject === 'A sign-in method was added to your account' && m.text.includes('"New phone"'), 30_000);
  expect(added.text).toMatch(/An? .*"New phone" was added to your account on/);

  const [recoveryPath, ...more] = await auditActions('mfa.factor_added_after_recovery_code');
  expect(more).toEqual([]);
  expect(JSON.parse(recoveryPath!.details!)).toMatchObject({ type: 'totp' });
});

test('the page is only for a session that just used a recovery code: with her new app she goes straight on', async ({ page }) => {
  await signIn(page, portal.url, 'rita', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?returnTo=%2Fportal/);
  await page.getByLabel('Verification code').fill(codeAt(newApp.secret, newApp.step + 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, 'rita');
  await page.goto(`${portal.url}/mfa/recovered?returnTo=%2Fportal`);
  await expectPortal(page, 'rita');
  await signOut(page);
  // Signed out, the page sends her to sign in.
  await page.goto(`${portal.url}/mfa/recovered?returnTo=%2Fportal`);
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fportal$/);
});

test('spending her last code says so, here and on the Security page, and she makes new ones on the spot', async ({ page }) => {
  // Rita used eight more codes over time: only the last one is left.
  const last = recoveryCodes[9]!;
  await withDb(portal.databaseUrl, (db) =>
    db.kysely
      .updateTable('recovery_codes')
      .set({ used_at: Date.now() })
      .where('user_id', '=', ids.rita!)
      .where('used_at', 'is', null)
      .where('code_hash', '!=', hashRecoveryCode(ids.rita!, normalizeRecoveryCode(last)!))
      .execute(),
  );

  await signInWithRecoveryCode(page, last);
  await expect(page.getByTestId('recovery-status')).toHaveText('You signed in with a recovery code. 0 codes left.');
  await expect(pageAlert(page)).toHaveText(/You have used your last recovery code\. Generate new ones now/);

  await page.goto(`${portal.url}/portal/security`);
  await expect(page.getByTestId('recovery-code-count')).toHaveText('0 of 10 recovery codes unused.');
  await expect(pageAlert(page)).toHaveText(/You have used your last recovery code/);

  await page.goto(`${portal.url}/mfa/recovered?returnTo=%2Fportal`);
  await page.getByRole('button', { name: 'Generate new recovery codes' }).click();
  // The code she just used is the fresh second factor new codes need (R-E8): no extra check.
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  const renewed = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  expect(renewed).toHaveLength(10);
  expect(renewed).not.toContain(last);
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();

  await expect(page).toHaveURL(`${portal.url}/mfa/recovered?returnTo=%2Fportal`);
  await expect(page.getByTestId('recovery-status')).toHaveText('You signed in with a recovery code. 10 codes left.');
  await expect(pageAlert(page)).toHaveCount(0);
  await page.getByRole('link', { name: 'Continue to where you were going' }).click();
  await expectPortal(page, 'rita');
  expect(await auditActions('mfa.recovery_codes_regenerated')).toHaveLength(1);
});

test('Rita loses everything: Ada the admin resets her TOTP from her page (after a confirm step), and Rita is asked to set up again', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await signIn(page, portal.url, 'ada', password, '/admin');
    await page.getByLabel('Verification code').fill(codeAt(adaSecret, currentStep()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Admin console' })).toBeVisible();

    await page.goto(`${portal.url}/admin/users/${ids.rita}`);
    await expect(page.getByTestId('mfa-status')).toHaveText('enrolled');
    // Rita set MFA up herself: the page says the reset will require it.
    await expect(page.getByText('MFA is not required for this user yet: the reset requires it, with the period you enter.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Reset TOTP MFA' })).toBeHidden(); // behind the confirm step
    await page.getByText('Reset TOTP…').click();
    await page.getByRole('button', { name: 'Reset TOTP MFA' }).click();
    await expect(page.getByRole('main').getByRole('status').first()).toHaveText(
      'TOTP reset: a new enrollment period has started and the user has been emailed. 2 authenticator apps removed. MFA is now required for this user.',
    );
    await expect(page.getByTestId('mfa-status')).toHaveText('in enrollment period');
    await expect(page.getByText('No second factor set up.')).toBeVisible();
  } finally {
    await context.close();
  }

  const [audit, ...more] = await auditActions('mfa.totp_reset');
  expect(more).toEqual([]);
  expect(audit!.actor_label).toBe('ada');
  expect(JSON.parse(audit!.details!)).toMatchObject({ removedFactors: 2, requirementCreated: true, recoveryCodesRemoved: true, enrollmentDays: 7 });
  const started = await sink.waitFor((m) => m.to.includes('rita@example.com') && m.subject === 'Set up multi-factor authentication within 7 days', 30_000);
  expect(started.text).toContain('Your administrator reset your authenticator app enrollment');
  await sink.waitFor((m) => m.to.includes('rita@example.com') && m.subject === 'A sign-in method was removed from your account', 30_000);

  // Her old codes are gone with her last factor; she signs in with her password and sets up again.
  const page2 = await browser.newPage();
  try {
    await signIn(page2, portal.url, 'rita', password);
    await expect(page2.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
    await expect(page2.getByRole('button', { name: 'Skip for now' })).toBeVisible();
  } finally {
    await page2.close();
  }
});

import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { codeAt, currentStep, wrongCode } from './support/totp-codes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { verifyMessages } from '../../lib/factors/totp';

/*
 * The portal as a person meets it (issue 16): Sonia must set up MFA within seven days, lives
 * in New York, skips at first, then sets up her phone from the Security page, saves her
 * recovery codes, adds and removes a backup phone, and signs in again. She reads deadlines
 * in her own time, is told when things are done, confirms before anything is destroyed,
 * sees her recovery codes once, and is told why a code was refused.
 */
const password = 'correct horse battery';
let portal: Portal;
let context: BrowserContext;
let page: Page;
let secret = '';
let lastStep = 0;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  portal = await startPortal();
  const ids = await seedUsers(portal.databaseUrl, [{ username: 'sonia', password, state: 'active' }]);
  await withDb(portal.databaseUrl, (db) => requireMfaForUsers(db.kysely, { userIds: [ids.sonia], enrollmentDays: 7 }, cliActor, systemClock));
  context = await newYorker(browser);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  await portal?.stop();
});

function newYorker(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ timezoneId: 'America/New_York', locale: 'en-US', permissions: ['clipboard-read', 'clipboard-write'] });
}

/** A step not used yet: R-I3 lets each step sign in once. */
async function freshCode(p: Page): Promise<{ code: string; step: number }> {
  while (currentStep() <= lastStep) await p.waitForTimeout(500);
  lastStep = currentStep();
  return { code: codeAt(secret, lastStep), step: lastStep };
}

async function expectDeadline(p: Page) {
  const deadline = p.getByTestId('enrollment-deadline');
  // The period is seven days from now: less than seven whole days are left.
  await expect(deadline).toContainText('in 6 days');
  // Formatted in the browser's zone (New York), not the server's UTC fallback.
  await expect(deadline.locator('time')).toHaveText(/\b(EST|EDT)$/);
  const iso = await deadline.locator('time').getAttribute('datetime');
  expect(Date.parse(iso!) - Date.now()).toBeGreaterThan(6 * 86_400_000);
}

test('after "Skip for now", Set Up, the portal and Security say by when, relative and in her local time', async () => {
  await signIn(page, portal.url, 'sonia', password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await expectDeadline(page);
  await page.getByRole('button', { name: 'Skip for now' }).click();
  await expectPortal(page, 'sonia');
  await expect(page.getByTestId('enrollment-reminder')).toContainText('Set it up by');
  await expectDeadline(page);

  await page.getByRole('link', { name: 'Security settings' }).click();
  await expectDeadline(page);
});

test('a wrong code on the setup page reads as on the challenge, tied to the field', async () => {
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('Verification code').fill(wrongCode(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(pageAlert(page)).toHaveText(verifyMessages.invalid);
  const field = page.getByLabel('Verification code');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription(verifyMessages.invalid);
  await expect(page.getByLabel('Device name')).not.toHaveAttribute('aria-invalid', 'true');
});

let codes: string[] = [];

test('her recovery codes: worded for her phone, copy, .txt download and print, and shown only once', async () => {
  await page.getByLabel('Device name').fill('Work phone');
  await page.getByLabel('Verification code').fill((await freshCode(page)).code);
  await page.getByRole('button', { name: 'Verify' }).click();

  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await expect(page.getByTestId('setup-done')).toHaveText('Your authenticator app is set up.');
  await expect(page.getByRole('main')).toContainText('If you lose your phone or your authenticator app');
  codes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);

  const download = page.getByRole('link', { name: 'Download as .txt' });
  await expect(download).toHaveAttribute('download', 'portcullis-recovery-codes.txt');
  const href = (await download.getAttribute('href'))!;
  expect(href.startsWith('data:text/plain;charset=utf-8,')).toBe(true);
  const text = decodeURIComponent(href.slice(href.indexOf(',') + 1));
  expect(text).toContain('Portcullis recovery codes for sonia');
  expect(text.split('\n').filter((line) => codes.includes(line))).toEqual(codes);
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  expect(file.suggestedFilename()).toBe('portcullis-recovery-codes.txt');

  await page.getByRole('button', { name: 'Copy codes' }).click();
  await expect(page.getByRole('main').getByRole('status').filter({ hasText: 'Copied' })).toHaveText('Copied to the clipboard.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));

  // Print opens the browser's dialog; here it is replaced to see that the button asks for it.
  await page.evaluate(() => {
    (window as unknown as { printed: number }).printed = 0;
    window.print = () => void ((window as unknown as { printed: number }).printed += 1);
  });
  await page.getByRole('button', { name: 'Print' }).click();
  expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);

  // The same address again (a reload, another tab): the codes are gone.
  const again = await context.newPage();
  await again.goto(page.url());
  await expect(again.getByRole('heading', { name: 'Recovery codes' })).toBeVisible();
  await expect(again.getByText('Recovery codes are shown only once.')).toBeVisible();
  await expect(again.getByTestId('recovery-codes')).toHaveCount(0);
  for (const code of codes) expect(await again.content()).not.toContain(code);
  await again.close();
});

test('finishing setup says it is done; the deadline is gone', async () => {
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expect(page).toHaveURL(`${portal.url}/portal/security?notice=mfa_set_up`);
  await expect(page.getByRole('main').getByRole('status')).toHaveText(/^Done: multi-factor authentication is set up\./);
  await expect(page.getByTestId('enrollment-reminder')).toHaveCount(0);
});

test('adding a device says so, by its name', async () => {
  await page.getByRole('button', { name: 'Add another authenticator app' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const backup = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('Device name').fill('Backup phone');
  await page.getByLabel('Verification code').fill(codeAt(backup, currentStep()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/portal\/security\?notice=added&factor=/);
  await expect(page.getByRole('main').getByRole('status')).toHaveText('Added “Backup phone”.');
  await expect(page.getByTestId('factor-row')).toHaveCount(2);
});

test('"Remove" asks first, with the buttons aligned; Cancel keeps the device', async () => {
  const row = page.getByTestId('factor-row').filter({ hasText: 'Backup phone' });
  const confirm = page.getByRole('button', { name: 'Remove Backup phone' });
  await expect(confirm).toBeHidden();
  await page.getByLabel('Remove Backup phone…').click();
  await expect(confirm).toBeVisible();
  await expect(row).toContainText('You will no longer be able to sign in with it.');
  const cancel = row.getByRole('link', { name: 'Cancel' });
  const [a, b] = [(await confirm.boundingBox())!, (await cancel.boundingBox())!];
  expect(Math.abs(a.y + a.height / 2 - (b.y + b.height / 2))).toBeLessThanOrEqual(2);

  await cancel.click();
  await expect(page.getByTestId('factor-row')).toHaveCount(2);
  await expect(confirm).toBeHidden();

  await page.getByLabel('Remove Backup phone…').click();
  await confirm.click();
  await expect(page.getByRole('main').getByRole('status')).toHaveText('Removed.');
  await expect(page.getByTestId('factor-row')).toHaveCount(1);
});

test('"Generate new recovery codes" asks first; the new set is worded as a new set', async () => {
  const confirm = page.getByRole('button', { name: 'Generate new recovery codes' });
  await expect(confirm).toBeHidden();
  await page.getByText('Generate new recovery codes…').click();
  await expect(page.getByRole('main')).toContainText('Your current recovery codes stop working as soon as you generate new ones.');
  await confirm.click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await expect(page.getByTestId('setup-done')).toHaveText('New recovery codes are ready.');
  await expect(page.getByRole('main')).not.toContainText('phone');
  const renewed = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  expect(renewed.some((c) => codes.includes(c))).toBe(false);
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expect(page).toHaveURL(`${portal.url}/portal/security?notice=codes_saved`);
  await expect(page.getByRole('main').getByRole('status')).toHaveText('Your new recovery codes are in use; the old ones no longer work.');
  await expect(page.getByTestId('recovery-code-count')).toHaveText('10 of 10 recovery codes unused.');
});

test('the challenge: a wrong code reads as on setup; a code used a moment ago says to wait for the next', async ({ browser }) => {
  // Two sign-ins, and up to one TOTP step (30 s) of waiting for an unused code.
  test.setTimeout(150_000);
  const first = await (await newYorker(browser)).newPage();
  await signIn(first, portal.url, 'sonia', password);
  await expect(first).toHaveURL(/\/mfa\/verify\?/);
  await first.getByLabel('Verification code').fill(wrongCode(secret));
  await first.getByRole('button', { name: 'Verify' }).click();
  await expect(pageAlert(first)).toHaveText(verifyMessages.invalid);
  await expect(first.getByLabel('Verification code')).toHaveAttribute('aria-invalid', 'true');

  const { code, step } = await freshCode(first);
  await first.getByLabel('Verification code').fill(code);
  await first.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(first, 'sonia');

  const second = await (await newYorker(browser)).newPage();
  await signIn(second, portal.url, 'sonia', password);
  await expect(second).toHaveURL(/\/mfa\/verify\?/);
  test.skip(currentStep() > step + 1, 'the used code left the ±1 window before the replay');
  await second.getByLabel('Verification code').fill(code);
  await second.getByRole('button', { name: 'Verify' }).click();
  await expect(pageAlert(second)).toHaveText(verifyMessages.replayed);
  const field = second.getByLabel('Verification code');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription(verifyMessages.replayed);
  await first.context().close();
  await second.context().close();
});

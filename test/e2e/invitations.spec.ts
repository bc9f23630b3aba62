import { randomBytes } from 'node:crypto';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb, insertEnrolledTotp } from './support/seed';
import { pageAlert } from './support/pages';
import { systemClock } from '../../lib/clock';
import { issueAccountToken, passwordResetValidityMs } from '../../lib/auth/account-tokens';
import { enqueueAccountLink } from '../../lib/mail/enqueue';

import { base32Encode } from '../../lib/factors/totp';
import { authenticatorApp, codeAt, currentStep } from './support/totp-codes';
import { startSmtpSink, type SmtpSink } from '../integration/mail/support/smtp-sink';

/*
 * Invitations and the page every link opens (issue 15), end to end through the production
 * build, reading the links from a real SMTP server. Ada the admin invites Ivy the invitee in
 * the console; Ivy sets her own password and lands in enrollment. Stan is staged: his
 * invitation goes out when Ada activates him. Rex resets his password and must sign in again.
 * A used, a replaced, an expired and an unknown link each get a clear page.
 */
const adaPassword = 'ada keeps the keys of the castle';
const ivyPassword = 'a quiet lighthouse on the hill';
let portal: Portal;
let sink: SmtpSink;
let ids: Record<string, string>;
const adaSecret = base32Encode(randomBytes(20));

test.beforeAll(async () => {
  sink = await startSmtpSink();
  portal = await startPortal({ env: { SMTP_URL: sink.url } });
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password: adaPassword, state: 'active', role: 'admin', email: 'ada@example.com' },
    { username: 'rex', password: 'rex forgot this one long ago', state: 'active', email: 'rex@example.com' },
    { username: 'eve', state: 'active', email: 'eve@example.com' },
  ]);
  // Ada's authenticator app, sealed with the portal's secret: the console asks for it.
  await withDb(portal.databaseUrl, (db) =>
    insertEnrolledTotp(db.kysely, { userId: ids.ada!, secret: adaSecret, portalSecret: portal.secret }),
  );
});

test.afterAll(async () => {
  await portal?.stop();
  await sink?.stop();
});

/** The link in the newest message to `address`. */
async function linkMailedTo(address: string, subject: RegExp): Promise<string> {
  const mail = await sink.waitFor((m) => m.to.includes(address) && subject.test(m.subject), 30_000);
  const link = /https?:\/\/\S+\/account\/password\?token=[A-Za-z0-9_-]{43}/.exec(mail.text)?.[0];
  expect(link, mail.text).toBeTruthy();
  return link!;
}

/** Ada signs in and passes her second factor (the console asks for it); returns her page. */
async function adminPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${portal.url}/login?returnTo=/admin/users/new`);
  await page.getByLabel('Username').fill('ada');
  await page.getByLabel('Password').fill(adaPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(await adaApp.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/admin/users/new');
  return page;
}

/** Ada's authenticator app. */
const adaApp = authenticatorApp(adaSecret);

/** Ada creates a user in the console with "Send an invitation" ticked; returns the user's id. */
async function invite(page: Page, username: string, state: 'active' | 'staged', requireMfa = false): Promise<string> {
  await page.goto(`${portal.url}/admin/users/new`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('State').selectOption(state);
  await page.getByLabel('Send an invitation').check();
  if (requireMfa) await page.getByLabel(/Require Multi-factor Authentication/).check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/[^/?]+\?done=created/);
  return /\/admin\/users\/([^/?]+)/.exec(page.url())![1]!;
}

test('Ada invites Ivy in the console; Ivy opens the link, sets her password, and lands in enrollment', async ({ browser }) => {
  const admin = await adminPage(browser);
  ids.ivy = await invite(admin, 'ivy', 'active', true);
  await expect(admin.getByTestId('invitation-status')).toContainText('not set up yet. The link is valid until');
  // The list finds her among those invited and not set up yet.
  await admin.goto(`${portal.url}/admin/users?invited=pending`);
  await expect(admin.getByRole('link', { name: 'ivy', exact: true })).toBeVisible();
  await expect(admin.getByRole('link', { name: 'ada', exact: true })).toHaveCount(0);

  const link = await linkMailedTo('ivy@example.com', /invited/);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  // The token leaves the address bar: the page is served without it.
  await expect(page).toHaveURL(`${portal.url}/account/password/set`);
  await expect(page.getByTestId('link-username')).toHaveText('ivy');
  await expect(page.locator('input[autocomplete="username"]')).toHaveValue('ivy');
  await expect(page.locator('#password')).toHaveAttribute('autocomplete', 'new-password');

  // Too short for a password-only account: refused with the reason, and the link still works.
  await page.locator('#password').fill('too short');
  await page.locator('#confirm').fill('too short');
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(pageAlert(page)).toContainText('at least 15 characters');

  await page.locator('#password').fill(ivyPassword);
  await page.locator('#confirm').fill(ivyPassword);
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  // Signed in, and sent on to Set Up: Ivy is required to enroll.
  await expect(page).toHaveURL((url) => url.pathname.startsWith('/mfa/setup'));

  // The same link again: already used.
  const again = await context.newPage();
  await again.goto(link);
  await expect(again.getByRole('heading', { name: 'This link was already used' })).toBeVisible();
  await context.close();

  await admin.goto(`${portal.url}/admin/users/${ids.ivy}`);
  await expect(admin.getByTestId('invitation-status')).toContainText('the user set their password');
  await expect(admin.getByRole('button', { name: 'Resend invitation' })).toHaveCount(0);
  await admin.context().close();
});

test("a staged user's invitation arrives only when Ada activates them; resending replaces the link", async ({ browser }) => {
  const admin = await adminPage(browser);
  await invite(admin, 'stan', 'staged');
  await expect(admin.getByTestId('invitation-status')).toContainText('sent when the user is activated');
  await admin.waitForTimeout(2_500);
  expect(sink.received.filter((m) => m.to.includes('stan@example.com'))).toHaveLength(0);

  await admin.getByRole('form', { name: 'Edit user' }).getByLabel('State').selectOption('active');
  await admin.getByRole('button', { name: 'Save changes' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Saved' })).toContainText('invitation sent, valid until');
  const first = await linkMailedTo('stan@example.com', /invited/);

  await admin.reload();
  await admin.getByRole('button', { name: 'Resend invitation' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Invitation sent' })).toHaveText('Invitation sent. The earlier link no longer works.');
  await expect.poll(() => sink.received.filter((m) => m.to.includes('stan@example.com')).length, { timeout: 30_000 }).toBe(2);
  const second = /https?:\/\/\S+\/account\/password\?token=[A-Za-z0-9_-]{43}/.exec(sink.received.filter((m) => m.to.includes('stan@example.com'))[1]!.text)![0];
  expect(second).not.toBe(first);

  const page = await admin.context().newPage();
  await page.goto(first);
  await expect(page.getByRole('heading', { name: 'A newer link replaced this one' })).toBeVisible();
  await page.goto(second);
  await expect(page.getByTestId('link-username')).toHaveText('stan');
  await admin.context().close();
});

test('Rex resets his password through a link: his other browser is signed out, and he signs in again with the new one', async ({ browser }) => {
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto(`${portal.url}/login?returnTo=/portal`);
  await otherPage.getByLabel('Username').fill('rex');
  await otherPage.getByLabel('Password').fill('rex forgot this one long ago');
  await otherPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(otherPage).toHaveURL(`${portal.url}/portal`);

  await mailResetLink(ids.rex!);
  const link = await linkMailedTo('rex@example.com', /Reset your password/);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Set a new password' })).toBeVisible();
  const rexsNewPassword = 'tortoise in a raincoat, twice';
  await page.locator('#password').fill(rexsNewPassword);
  await page.locator('#confirm').fill(rexsNewPassword);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect(page).toHaveURL(`${portal.url}/login?notice=password_reset`);
  await expect(page.getByRole('status')).toHaveText('Your password was changed. Sign in with your new password.');

  await otherPage.goto(`${portal.url}/portal`);
  await expect(otherPage).toHaveURL((url) => url.pathname === '/login');

  await page.getByLabel('Username').fill('rex');
  await page.getByLabel('Password').fill(rexsNewPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${portal.url}/portal`);
  const notice = await sink.waitFor((m) => m.to.includes('rex@example.com') && /changed|reset/i.test(m.subject) && !m.text.includes('/account/password'), 30_000);
  expect(notice.text).not.toContain('token=');
  await other.close();
  await context.close();
});

/** A reset link for `userId`, as the request flow issues it, mailed by the portal's worker. */
async function mailResetLink(userId: string): Promise<void> {
  await withDb(portal.databaseUrl, (db) =>
    db.kysely.transaction().execute(async (trx) => {
      const now = systemClock.now();
      const expiresAt = now + passwordResetValidityMs;
      const { id } = await issueAccountToken(trx, { userId, purpose: 'password_reset', now, expiresAt, createdBy: null, secret: portal.secret });
      await enqueueAccountLink(trx, { userId, kind: 'password_reset', tokenId: id, expiresAt, at: now, requestedBy: 'self' });
    }),
  );
}

test('an expired link and an unknown one each get their clear page; the link\'s own address sends no Referer', async ({ page }) => {
  await mailResetLink(ids.eve!);
  const link = await linkMailedTo('eve@example.com', /Reset your password/);
  const redirect = await page.request.get(link, { maxRedirects: 0 });
  expect(redirect.status()).toBe(303);
  expect(redirect.headers()['referrer-policy']).toBe('no-referrer');
  expect(redirect.headers()['location']).toBe('/account/password/set');
  expect(redirect.headers()['set-cookie']).toMatch(/^portcullis\.account-link=[A-Za-z0-9_-]{43}; Path=\/account; Max-Age=1800; HttpOnly; SameSite=Lax$/);

  await withDb(portal.databaseUrl, (db) =>
    db.kysely.updateTable('account_tokens').set({ expires_at: systemClock.now() - 1000 }).where('user_id', '=', ids.eve!).execute(),
  );
  const expired = await page.goto(link);
  expect(expired?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'This link has expired' })).toBeVisible();
  await expect(page.getByRole('link', { name: /new password reset link/ })).toHaveAttribute('href', '/login/forgot');

  const unknown = await page.goto(`${portal.url}/account/password?token=${'A'.repeat(43)}`);
  expect(unknown?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'This link is not valid' })).toBeVisible();
});

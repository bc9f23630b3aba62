import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { signIn } from './support/pages';
import { codeAt, stepMs } from './support/totp-codes';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode, totpSecretContext } from '../../lib/factors/totp';
import { resetRequestAnswer } from '../../lib/auth/password-reset-request';
import { startSmtpSink, type SmtpSink, type ReceivedMail } from '../integration/mail/support/smtp-sink';

/*
 * Passwords forgotten, changed and reset by an admin (issue 15 §2), end to end through the
 * production build, with the portal's own worker mailing an SMTP server inside this spec.
 * Personas, each with an authenticator app (TOTP):
 * - Eve forgets her password; her old session on another computer must end, and her new
 *   password must still lead to the second-factor challenge (a reset never bypasses MFA).
 * - Carl changes his password at /portal/security; his other browser is signed out.
 * - Ada the admin sends Bob a reset from the console, and never sees the link.
 */
const password = 'a long enough passphrase for everyone';
let portal: Portal;
let sink: SmtpSink;
let ids: Record<string, string>;
const secrets: Record<string, string> = {};
const lastStep: Record<string, number> = {};

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  sink = await startSmtpSink();
  portal = await startPortal({ env: { SMTP_URL: sink.url } });
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin', email: 'ada@example.com' },
    { username: 'eve', password, state: 'active', email: 'eve@example.com' },
    { username: 'carl', password, state: 'active', email: 'carl@example.com' },
    { username: 'bob', password, state: 'active', email: 'bob@example.com' },
  ]);
  const ring = createKeyring([portal.secret]);
  const now = Date.now();
  await withDb(portal.databaseUrl, async (db) => {
    for (const user of ['ada', 'eve', 'carl']) {
      secrets[user] = base32Encode(randomBytes(20));
      await insertTotpFactor(db.kysely, {
        id: `factor-${user}`,
        userId: ids[user]!,
        name: 'Phone',
        secretSealed: sealSecret(secrets[user]!, totpSecretContext(ids[user]!), ring),
        enrolledStep: Math.floor(now / stepMs) - 10,
        now,
      });
    }
  });
});

test.afterAll(async () => {
  await portal?.stop();
  await sink?.stop();
});

/** A code of `user` for a time step not used yet (each step signs in once, R-I3; the verifier accepts one step ahead). */
async function freshCode(user: string): Promise<string> {
  let step = Math.floor(Date.now() / stepMs);
  if (step <= (lastStep[user] ?? 0)) step = lastStep[user]! + 1;
  if (step > Math.floor(Date.now() / stepMs) + 1) {
    await new Promise((r) => setTimeout(r, stepMs - (Date.now() % stepMs) + 200));
    step = Math.floor(Date.now() / stepMs) + 1;
  }
  lastStep[user] = step;
  return codeAt(secrets[user]!, step);
}

async function passSecondFactor(page: Page, user: string) {
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(await freshCode(user));
  await page.getByRole('button', { name: 'Verify' }).click();
}

/** A new browser (its own cookies), signed in with password and code, on `path`. */
async function signedInBrowser(browser: Browser, user: string, path = '/portal'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, portal.url, user, password, path);
  await passSecondFactor(page, user);
  await expect(page).toHaveURL(`${portal.url}${path}`);
  return { context, page };
}

const linkIn = (mail: ReceivedMail) => /https?:\/\/\S+\/account\/password\?token=[A-Za-z0-9_-]{43}/.exec(mail.text)?.[0];

test('Eve forgets her password: a link by mail, a new password, and her next sign-in still asks for her second factor', async ({ browser, page }) => {
  const old = await signedInBrowser(browser, 'eve');

  await page.goto(`${portal.url}/login`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(page).toHaveURL(`${portal.url}/login/forgot`);
  await page.getByLabel('Username or email address').fill('EVE@example.com');
  await page.getByRole('button', { name: 'Send link' }).click();
  await expect(page).toHaveURL(`${portal.url}/login/forgot?sent=1`);
  await expect(page.getByRole('status')).toHaveText(resetRequestAnswer);

  const mail = await sink.waitFor((m) => m.to.includes('eve@example.com') && m.subject === 'Reset your password', 30_000);
  const link = linkIn(mail);
  expect(link?.startsWith(`${portal.url}/account/password?token=`)).toBe(true);

  await page.goto(link!);
  await expect(page.getByRole('heading', { name: 'Set a new password' })).toBeVisible();
  const newPassword = 'eve chose a brand new passphrase';
  await page.getByLabel('New password').fill(newPassword);
  await page.getByLabel('Type it again').fill(newPassword);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect(page).toHaveURL(`${portal.url}/login?notice=password_reset`);

  // Her old session on the other computer is gone at its next request.
  await old.page.goto(`${portal.url}/portal`);
  await expect(old.page).toHaveURL((url) => url.pathname === '/login');
  await old.context.close();

  // The new password is only the first step: the second factor is still asked for.
  await signIn(page, portal.url, 'eve', newPassword);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await passSecondFactor(page, 'eve');
  await expect(page).toHaveURL(`${portal.url}/portal`);

  // The link works once; and Eve is told her password was reset.
  await page.goto(link!);
  await expect(page.getByRole('heading', { name: 'This link was already used' })).toBeVisible();
  await sink.waitFor((m) => m.to.includes('eve@example.com') && m.subject === 'Your password was changed', 30_000);
});

test('"Forgot password?" answers an unknown name and a known one with the same response', async ({ playwright }) => {
  const api = await playwright.request.newContext({ baseURL: portal.url, extraHTTPHeaders: { origin: portal.url } });
  try {
    const answer = async (identifier: string) => {
      const response = await api.post('/login/forgot/submit', { form: { identifier }, maxRedirects: 0 });
      const headers = response.headers();
      delete headers.date;
      delete headers['x-request-id'];
      // Every response has a fresh CSP nonce of the same length, known or not.
      headers['content-security-policy'] = headers['content-security-policy']?.replace(/'nonce-[A-Za-z0-9+/=]{24}'/g, "'nonce-…'") ?? '';
      return { status: response.status(), headers, body: await response.text() };
    };
    const unknown = await answer('nobody-by-that-name');
    const known = await answer('bob');
    expect(unknown).toEqual(known);
    expect(known.status).toBe(303);
    expect(known.headers.location).toBe('/login/forgot?sent=1');
    expect(known.headers['set-cookie']).toBeUndefined();
  } finally {
    await api.dispose();
  }
});

test('Carl changes his password with his second factor fresh; his other browser is signed out and he gets the notice', async ({ browser }) => {
  const laptop = await signedInBrowser(browser, 'carl');
  const phone = await signedInBrowser(browser, 'carl');

  await laptop.page.goto(`${portal.url}/portal/security`);
  await laptop.page.getByLabel('Current password').fill(password);
  await laptop.page.getByLabel('New password').fill('carl picked another long passphrase');
  await laptop.page.getByRole('button', { name: 'Change password' }).click();
  await expect(laptop.page.getByRole('status')).toContainText('Password changed.');

  await phone.page.goto(`${portal.url}/portal`);
  await expect(phone.page).toHaveURL((url) => url.pathname === '/login');
  // The browser that made the change stays signed in.
  await laptop.page.goto(`${portal.url}/portal`);
  await expect(laptop.page).toHaveURL(`${portal.url}/portal`);

  const notice = await sink.waitFor((m) => m.to.includes('carl@example.com') && m.subject === 'Your password was changed', 30_000);
  expect(notice.text).toContain('was changed');
  await laptop.context.close();
  await phone.context.close();
});

test('Ada sends Bob a password reset from the console: the mail arrives, and her page never shows the link', async ({ browser }) => {
  sink.received.length = 0;
  const admin = await signedInBrowser(browser, 'ada', '/admin');
  const page = admin.page;
  await page.goto(`${portal.url}/admin/users/${ids.bob}`);
  await page.getByText('Send password reset…').click();
  await page.getByRole('button', { name: 'Send a reset link to bob@example.com' }).click();
  await expect(page.getByRole('status')).toContainText('Password reset sent');

  const mail = await sink.waitFor((m) => m.to.includes('bob@example.com') && m.subject === 'Reset your password', 30_000);
  const link = linkIn(mail)!;
  const token = new URL(link).searchParams.get('token')!;
  expect(await page.content()).not.toContain(token);
  await page.goto(`${portal.url}/admin/outbox`);
  expect(await page.content()).not.toContain(token);
  expect(sink.received.filter((m) => m.to.includes('ada@example.com'))).toEqual([]);
  await admin.context.close();
});

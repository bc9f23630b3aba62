import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';
import { authenticatorApp } from './support/totp-codes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { enrollmentDaysMessage } from '../../lib/admin/mfa-requirements';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode, totpSecretContext } from '../../lib/factors/totp';
import { oneDay } from '../../lib/clock';
import { webauthnOnlyError } from '../../lib/policy/methods';

/*
 * The rest of the admin console (SPEC A, B, F): users created and edited (R-B1, R-B4), unlock
 * (R-I2), sessions revoked, a factor removed, roles, MFA settings (R-A1, R-A2), the audit
 * log, the outbox and API keys; and the bulk form in a browser without JavaScript.
 * Personas: Ada the admin (her TOTP factor seeded, sealed with the portal's secret); Bob,
 * who forgot his password; Cleo, signed in on a shared computer; Dora, who lost her phone.
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;
let ids: Record<string, string>;
const adaSecret = base32Encode(randomBytes(20));
let admin: { context: BrowserContext; page: Page };

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin' },
    { username: 'bob', password, state: 'active', email: 'bob@example.test' },
    { username: 'cleo', password, state: 'active' },
    { username: 'dora', password, state: 'active', email: 'dora@example.test' },
  ]);
  const ring = createKeyring([portal.secret]);
  const now = Date.now();
  await withDb(portal.databaseUrl, async (db) => {
    for (const [user, secret, name] of [['ada', adaSecret, 'Ada’s phone'], ['dora', base32Encode(randomBytes(20)), 'Dora’s phone']] as const) {
      await insertTotpFactor(db.kysely, {
        id: `factor-${user}`,
        userId: ids[user]!,
        name,
        secretSealed: sealSecret(secret, totpSecretContext(ids[user]!), ring),
        enrolledStep: Math.floor(now / stepMs) - 10,
        now,
      });
    }
  });
  admin = await adminSession(browser);
});

test.afterAll(async () => {
  await admin?.context.close();
  await portal?.stop();
});

/** Ada signs in and passes her second factor; the console opens. */
async function adminSession(browser: Browser, options: { javaScriptEnabled?: boolean; timezoneId?: string } = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await signIn(page, portal.url, 'ada', password, '/admin');
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(await adaApp.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Admin console' })).toBeVisible();
  return { context, page };
}

/** Ada's authenticator app. */
const adaApp = authenticatorApp(adaSecret);

async function auditActions(action: string) {
  return withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute(),
  );
}

test('a staged user created with "Require MFA" is in pre-enrollment; activated, the period starts (R-B1, R-B4)', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/new`);
  await page.getByLabel('Username').fill('erik');
  await page.getByLabel('Email').fill('erik@example.test');
  await page.getByLabel('State').selectOption('staged');
  await page.getByLabel('Require Multi-factor Authentication for User Portal').check();
  await page.getByLabel('Enrollment period (days)').fill('0');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByText(enrollmentDaysMessage)).toBeVisible();
  await expect(page.getByLabel('Enrollment period (days)')).toHaveValue('0');
  await expect(page.getByLabel('Username')).toHaveValue('erik');
  expect(await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('users').select('id').where('username', '=', 'erik').execute())).toEqual([]);

  await page.getByLabel('Enrollment period (days)').fill('14');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('heading', { name: 'User erik' })).toBeVisible();
  await expect(page.getByRole('main').getByRole('status').first()).toHaveText('User created.');
  await expect(page.getByTestId('mfa-status')).toHaveText('pre-enrollment');
  await expect(page.getByTestId('mfa-detail')).toHaveText('Pre-enrollment: a 14-day enrollment period starts when the user is activated.');

  await page.getByLabel('State').selectOption('active');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('form', { name: 'Edit user' }).getByRole('status')).toContainText('state is now active');
  await expect(page.getByTestId('mfa-status')).toHaveText('in enrollment period');
  const row = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('mfa_requirements as r').innerJoin('users as u', 'u.id', 'r.user_id').selectAll('r').where('u.username', '=', 'erik').executeTakeFirstOrThrow(),
  );
  expect(row.period_ends_at! - row.period_starts_at!).toBe(14 * oneDay);
});

test('on a user’s page, days 366 for the requirement are refused and nothing changes (R-B1)', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/${ids.bob}`);
  await page.getByLabel('Require Multi-factor Authentication for User Portal').check();
  await page.getByLabel('Enrollment period (days)').fill('366');
  await page.getByLabel('Display name').fill('Bob Builder');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText(enrollmentDaysMessage)).toBeVisible();
  await expect(page.getByLabel('Enrollment period (days)')).toHaveValue('366');
  await expect(page.getByLabel('Display name')).toHaveValue('Bob Builder');
  await expect(page.getByTestId('mfa-status')).toHaveText('not enrolled');
  const bob = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('users').select('display_name').where('id', '=', ids.bob!).executeTakeFirstOrThrow());
  expect(bob.display_name).toBeNull();
});

test('Bob’s failed sign-ins show on his page, and "Unlock sign-in" clears them (R-I2)', async ({ browser }) => {
  const bobContext = await browser.newContext();
  const bobPage = await bobContext.newPage();
  try {
    for (let i = 0; i < 6; i++) await signIn(bobPage, portal.url, 'bob', 'wrong password');
  } finally {
    await bobContext.close();
  }
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/${ids.bob}`);
  await expect(page.getByTestId('throttle-state')).toContainText('Password attempts: 6 failed');
  await page.getByRole('button', { name: 'Unlock sign-in' }).click();
  await expect(page.getByRole('main').getByRole('status').first()).toContainText('Unlocked');
  await expect(page.getByTestId('throttle-state')).toContainText('Password attempts: 0 failed, may try now');
  expect((await auditActions('user.unlocked')).map((e) => [e.actor_label, e.target_id])).toEqual([['ada', ids.bob]]);
});

test('"Revoke all sessions" signs Cleo out everywhere at her next request', async ({ browser }) => {
  const cleoContext = await browser.newContext();
  const cleoPage = await cleoContext.newPage();
  try {
    await signIn(cleoPage, portal.url, 'cleo', password);
    await expectPortal(cleoPage, 'cleo');
    const { page } = admin;
    await page.goto(`${portal.url}/admin/users/${ids.cleo}`);
    await page.getByText('Revoke all sessions…').click();
    await page.getByRole('button', { name: 'Revoke all sessions' }).click();
    await expect(page.getByRole('main').getByRole('status').first()).toContainText('sessions are revoked');
    await cleoPage.goto(`${portal.url}/portal`);
    await expect(cleoPage).toHaveURL(/\/login\?returnTo=%2Fportal/);
    expect(JSON.parse((await auditActions('user.sessions_revoked'))[0]!.details!)).toEqual({ revoked: 1 });
  } finally {
    await cleoContext.close();
  }
});

test('Dora’s lost phone is removed from her page; she is emailed', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/${ids.dora}`);
  await expect(page.getByTestId('mfa-status')).toHaveText('enrolled');
  await page.getByText('Remove Dora’s phone…').click();
  await page.getByRole('button', { name: 'Remove factor Dora’s phone' }).click();
  await expect(page.getByRole('main').getByRole('status').first()).toContainText('Factor removed');
  await expect(page.getByText('No second factor set up.')).toBeVisible();
  await expect(page.getByTestId('mfa-status')).toHaveText('not enrolled');
  const mail = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('mail_outbox').select(['kind', 'to_address']).where('user_id', '=', ids.dora!).execute(),
  );
  expect(mail).toEqual([{ kind: 'factor_removed', to_address: 'dora@example.test' }]);
});

test('roles change only through "Change role", audited', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/${ids.cleo}`);
  await page.getByRole('combobox', { name: 'Role' }).selectOption('admin');
  await page.getByRole('button', { name: 'Change role' }).click();
  await expect(page.getByRole('form', { name: 'Role change' }).getByRole('status')).toHaveText('Role is now admin.');
  expect(JSON.parse((await auditActions('user.role_changed'))[0]!.details!)).toEqual({ from: 'user', to: 'admin' });
});

test('MFA settings: WebAuthn alone is refused with the message, said once; Duo is saved with a write-only secret (R-A1, R-A2)', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/settings`);
  // Nothing stored yet: the redirect URI is this portal's own, from PORTCULLIS_ORIGIN.
  await expect(page.getByLabel('Redirect URI')).toHaveValue(`${portal.url}/mfa/duo/callback`);
  await page.getByLabel('TOTP (authenticator app)').uncheck();
  await page.getByLabel('WebAuthn (security key or passkey)').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(pageAlert(page)).toHaveText(webauthnOnlyError);
  await expect(page.getByText(/cannot be the only/)).toHaveCount(1);
  const webauthnBox = page.getByLabel('WebAuthn (security key or passkey)');
  await expect(webauthnBox).toHaveAttribute('aria-invalid', 'true');
  await expect(webauthnBox).toHaveAccessibleDescription(webauthnOnlyError);
  await expect(page.getByLabel('TOTP (authenticator app)')).not.toBeChecked();
  const settings = () => withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('mfa_settings').selectAll().executeTakeFirstOrThrow());
  expect((await settings()).totp_enabled).toBe(1);

  const secret = 'S'.repeat(40);
  await page.getByLabel('TOTP (authenticator app)').check();
  await page.getByLabel('Duo (Universal Prompt)').check();
  await page.getByLabel('Client ID').fill('DIXXXXXXXXXXXXXXXXXX');
  await page.getByLabel('Client secret').fill(secret);
  await page.getByLabel('API hostname').fill('api-12345678.duosecurity.com');
  await page.getByLabel('Redirect URI').fill(`${portal.url}/mfa/duo/callback`);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('main').getByRole('status')).toContainText('MFA settings saved');
  await page.reload();
  await expect(page.getByTestId('duo-secret-state')).toContainText('A client secret is stored');
  await expect(page.getByLabel('Client secret')).toHaveValue('');
  expect(await page.content()).not.toContain(secret);
  const saved = await settings();
  expect(saved).toMatchObject({ totp_enabled: 1, webauthn_enabled: 1, duo_enabled: 1, duo_client_id: 'DIXXXXXXXXXXXXXXXXXX' });
  expect(saved.duo_client_secret_enc).toMatch(/^pcb1\./);
  expect(saved.duo_client_secret_enc).not.toContain(secret);
});

test('the audit log reads as lines with names, in the admin\'s time zone; it filters by action, target and dates, and exports CSV', async ({ browser }) => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/audit`);
  await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Sign-in unlocked' });
  await page.getByRole('button', { name: 'Filter' }).click();
  const rows = page.getByRole('row');
  await expect(rows).toHaveCount(2); // header + one entry
  await expect(rows.nth(1).getByTestId('audit-line')).toHaveText('ada unlocked sign-in for bob');
  await expect(rows.nth(1)).toContainText('Sign in failures');
  await expect(rows.nth(1)).not.toContainText(ids.bob!);
  await expect(rows.nth(1)).not.toContainText('{"');
  await page.getByRole('link', { name: 'Entries about bob' }).click();
  await expect(page).toHaveURL(new RegExp(`targetId=${ids.bob}`));
  await expect(page.getByRole('row').filter({ hasText: 'ada unlocked sign-in for bob' })).toHaveCount(1);
  await page.getByRole('link', { name: 'Show every target' }).click();

  // A range that ends before it starts is refused with a message.
  const today = new Date().toISOString().slice(0, 10);
  await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Any action' });
  await page.getByLabel('From (UTC day)').fill(today);
  await page.getByLabel('To (UTC day)').fill('2020-01-01');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(pageAlert(page)).toHaveText('To must not be before From.');
  await page.getByLabel('To (UTC day)').fill(today);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('audit-line').first()).toBeVisible();
  await page.goto(`${portal.url}/admin/audit?action=NOT+AN+ACTION`);
  await expect(pageAlert(page)).toContainText('Action is lowercase letters');

  // The CSV holds the same filtered entries; only an admin gets it.
  const csv = await page.request.get(`${portal.url}/admin/audit/export?action=user.unlocked`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  expect(csv.headers()['content-disposition']).toMatch(/^attachment; filename="portcullis-audit-\d{4}-\d{2}-\d{2}\.csv"$/);
  const lines = (await csv.text()).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
  expect(lines[0]).toBe('"Time (UTC)","Actor","Action","Target type","Target id","Target","Event","Client IP","Details"');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('"ada unlocked sign-in for bob"');
  const stranger = await browser.newContext();
  const refused = await stranger.request.get(`${portal.url}/admin/audit/export`, { maxRedirects: 0 });
  expect(refused.status()).not.toBe(200);
  expect(await refused.text()).not.toContain('Time (UTC)');
  await stranger.close();

  // In Tokyo, Ada reads the times in Tokyo time.
  const tokyo = await adminSession(browser, { timezoneId: 'Asia/Tokyo' });
  await tokyo.page.goto(`${portal.url}/admin/audit?action=user.unlocked`);
  await expect(tokyo.page.getByRole('row').nth(1).locator('time').first()).toContainText('GMT+9');
  await tokyo.context.close();
});

test('a failed email is resent from the outbox', async () => {
  await withDb(portal.databaseUrl, (db) =>
    db.kysely.updateTable('mail_outbox').set({ status: 'failed', attempts: 5, last_error: '550 mailbox unavailable', next_attempt_at: null }).where('user_id', '=', ids.dora!).execute(),
  );
  const { page } = admin;
  await page.goto(`${portal.url}/admin/outbox?status=failed`);
  const row = page.getByRole('row').filter({ hasText: 'dora@example.test' });
  await expect(row.getByTestId('mail-status')).toContainText('failed');
  await row.getByRole('button', { name: 'Resend' }).click();
  await expect(page.getByRole('main').getByRole('status')).toContainText('Message queued again');
  const mail = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('mail_outbox').select(['status', 'attempts']).where('user_id', '=', ids.dora!).executeTakeFirstOrThrow(),
  );
  // The server's mail worker may take the message straight away (seen on PostgreSQL): then it
  // is on its first attempt of the new round; the five failed ones are forgotten either way.
  expect(['pending', 'sending', 'sent']).toContain(mail.status);
  expect(mail.attempts).toBeLessThanOrEqual(1);
  expect(await auditActions('mail.resent')).toHaveLength(1);
});

test('without SMTP the outbox says "not sent", and a message opens to its text with the reset link withheld', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/${ids.bob}`);
  await page.getByText('Send password reset…').click();
  await page.getByRole('button', { name: 'Send a reset link to bob@example.test' }).click();
  await expect(page.getByRole('status')).toContainText('Password reset sent');

  const row = page.getByRole('row').filter({ hasText: 'bob@example.test' }).filter({ hasText: 'Reset your password' });
  await expect(async () => {
    await page.goto(`${portal.url}/admin/outbox`);
    await expect(row.getByTestId('mail-status')).toHaveText('not sent: no SMTP server configured', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByText(/via outbox/)).toHaveCount(0);
  await row.getByRole('link', { name: 'Reset your password' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Reset your password');
  await expect(page.getByTestId('mail-status')).toContainText('Not sent: no SMTP server configured');
  await expect(page.getByTestId('mail-text')).toContainText('[link withheld: it works once, and only the recipient has it]');
  await expect(page.getByTestId('mail-text')).not.toContainText('token=');
  await page.goto(`${portal.url}/admin/outbox/not-a-message`);
  await expect(page.getByRole('heading', { name: 'Reset your password' })).toHaveCount(0);
});

test('a new API key is shown once and listed by its prefix', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/api-keys`);
  await page.getByLabel('Key name').fill('provisioning');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByTestId('shown-once').textContent())!;
  expect(key).toMatch(/^pcl_[A-Za-z0-9_-]{43}$/);
  await expect(page.getByRole('row').filter({ hasText: 'provisioning' })).toContainText(key.slice(0, 10));
  const response = await page.request.get(`${portal.url}/api/v1/users?limit=1`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status()).toBe(200);
  await page.reload();
  expect(await page.content()).not.toContain(key);
});

test('without JavaScript, "Require MFA on User Portal" still refuses 0 days and keeps the typed value', async ({ browser }) => {
  const noJs = await adminSession(browser, { javaScriptEnabled: false });
  try {
    const { page } = noJs;
    await page.goto(`${portal.url}/admin/users`);
    await page.getByLabel('Select cleo').check();
    await page.getByText('More actions', { exact: true }).click();
    await page.getByLabel('Enrollment period (days)').fill('0');
    await page.getByRole('button', { name: 'Require MFA on User Portal' }).click();
    await expect(page.getByText(enrollmentDaysMessage)).toBeVisible();
    await expect(page.getByLabel('Enrollment period (days)')).toHaveValue('0');
    await page.getByLabel('Enrollment period (days)').fill('30');
    await page.getByLabel('Select cleo').check();
    await page.getByRole('button', { name: 'Require MFA on User Portal' }).click();
    await expect(page.getByRole('main').getByRole('status')).toContainText('required for 1 user');
    await page.goto(`${portal.url}/admin/users?q=cleo`);
    await expect(page.getByTestId('mfa-status')).toHaveText('in enrollment period');
  } finally {
    await noJs.context.close();
  }
});

test('the users list pages by keyset: Next and Previous walk 55 matching users 50 at a time', async () => {
  await seedUsers(
    portal.databaseUrl,
    Array.from({ length: 55 }, (_, i) => ({ username: `temp-${String(i).padStart(3, '0')}`, state: 'active' as const })),
  );
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users?q=temp-`);
  const cells = page.getByTestId('mfa-status');
  await expect(cells).toHaveCount(50);
  await expect(page.getByRole('link', { name: 'temp-000', exact: true })).toBeVisible();
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next' }).click();
  await expect(cells).toHaveCount(5);
  await expect(page.getByRole('link', { name: 'temp-054', exact: true })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('cursor')).toBeTruthy();
  await expect(page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next' })).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Previous' }).click();
  await expect(cells).toHaveCount(50);
  await expect(page.getByRole('link', { name: 'temp-000', exact: true })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('q')).toBe('temp-');
});

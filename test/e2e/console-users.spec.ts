import { expect as baseExpect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { signIn } from './support/pages';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode, totpSecretContext } from '../../lib/factors/totp';
import { oneDay } from '../../lib/clock';

/*
 * The console's users list, user page and API keys as issue 16 asked for them. Ada the
 * admin requires MFA for Bob and Cleo and sees them counted at once, takes it back for the
 * whole page, exports the list, reads MFA details by keyboard, renames Bob, learns that
 * Reset TOTP (not Unlock) helps Xena, whose enrollment period ran out, and makes a read-only
 * API key with an expiry that she copies. All of it also at 390 px without the page
 * growing wider than the screen.
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;
let ids: Record<string, string>;
const adaSecret = base32Encode(randomBytes(20));
let admin: { context: BrowserContext; page: Page };

// A busy shared machine: every server answer gets room.
const expect = baseExpect.configure({ timeout: 30_000 });
test.describe.configure({ mode: 'serial', timeout: 180_000 });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin' },
    { username: 'bob', password, state: 'active', email: 'bob@example.test' },
    { username: 'cleo', password, state: 'active', displayName: '=HYPERLINK("http://evil.example")' },
    { username: 'xena', password, state: 'active' },
  ]);
  const ring = createKeyring([portal.secret]);
  const now = Date.now();
  await withDb(portal.databaseUrl, async (db) => {
    await insertTotpFactor(db.kysely, {
      id: 'factor-ada',
      userId: ids.ada!,
      name: 'Ada’s phone',
      secretSealed: sealSecret(adaSecret, totpSecretContext(ids.ada!), ring),
      enrolledStep: Math.floor(now / stepMs) - 10,
      now,
    });
    // Xena's enrollment period ended yesterday without a factor.
    await db.kysely
      .insertInto('mfa_requirements')
      .values({
        user_id: ids.xena!,
        required: 1,
        enrollment_days: 7,
        period_starts_at: now - 8 * oneDay,
        period_ends_at: now - oneDay,
        set_by: null,
        set_at: now - 8 * oneDay,
        start_notice: null,
      })
      .execute();
  });
  admin = await adminSession(browser);
});

test.afterAll(async () => {
  await admin?.context.close();
  await portal?.stop();
});

async function adminSession(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, portal.url, 'ada', password, '/admin');
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(authenticator.clone({ epoch: Date.now() }).generate(adaSecret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Admin console' })).toBeVisible();
  return { context, page };
}

function counts(page: Page) {
  return page.getByRole('region', { name: 'Users by MFA status' });
}

function row(page: Page, username: string) {
  return page.getByRole('row').filter({ has: page.getByRole('link', { name: username, exact: true }) });
}

test('a bulk "Require MFA" is counted on the page that follows; select all and "Remove MFA requirement" undo it', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users`);
  await expect(counts(page)).toContainText('4 users');
  await expect(counts(page)).toContainText('in enrollment period: 0');
  await expect(counts(page)).toContainText('enrollment expired: 1');

  await page.getByLabel('Select bob').check();
  await page.getByLabel('Select cleo').check();
  await page.getByText('More actions', { exact: true }).click();
  await page.getByRole('button', { name: 'Require MFA on User Portal' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'now required for 2 users' })).toBeVisible();
  await expect(counts(page)).toContainText('in enrollment period: 2');
  await expect(counts(page)).toContainText('not enrolled: 0');

  // Select all on the page: every row's box, and the header box follows the rows.
  const all = page.getByLabel('Select all users on this page');
  await all.check();
  for (const name of ['ada', 'bob', 'cleo', 'xena']) await expect(page.getByLabel(`Select ${name}`)).toBeChecked();
  await page.getByLabel('Select ada').uncheck();
  await expect(all).not.toBeChecked();
  expect(await all.evaluate((el: HTMLInputElement) => el.indeterminate)).toBe(true);
  await all.check();

  await page.getByText('More actions', { exact: true }).click();
  // The destructive button waits behind its confirm step.
  const remove = page.getByRole('button', { name: 'Remove MFA requirement from the selected users' });
  await expect(remove).toBeHidden();
  await page.getByText('Remove MFA requirement…', { exact: true }).click();
  await remove.click();
  await expect(page.getByRole('status').filter({ hasText: 'no longer required for 3 users' })).toContainText('1 user had no MFA requirement.');
  await expect(counts(page)).toContainText('in enrollment period: 0');
  await expect(counts(page)).toContainText('enrollment expired: 0');
  await expect(counts(page)).toContainText('not enrolled: 3');
  const cleared = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').select('target_id').where('action', '=', 'mfa.requirement_cleared').execute(),
  );
  expect(cleared.map((r) => r.target_id).sort()).toEqual([ids.bob, ids.cleo, ids.xena].sort());
  // Put Xena back where she was for the user page's test below.
  await withDb(portal.databaseUrl, (db) =>
    db.kysely
      .insertInto('mfa_requirements')
      .values({ user_id: ids.xena!, required: 1, enrollment_days: 7, period_starts_at: Date.now() - 8 * oneDay, period_ends_at: Date.now() - oneDay, set_by: null, set_at: Date.now(), start_notice: null })
      .execute(),
  );
});

test('MFA details open by keyboard, last sign-in shows, Previous/Next look like buttons, and the CSV export downloads the list as filtered', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users`);
  const bobStatus = row(page, 'bob').getByTestId('mfa-status');
  const bobDetail = row(page, 'bob').getByTestId('mfa-detail');
  await expect(bobDetail).toBeHidden();
  await bobStatus.focus();
  await page.keyboard.press('Enter');
  await expect(bobDetail).toBeVisible();
  await expect(bobDetail).toHaveText('MFA not required; no second factor.');

  await expect(row(page, 'ada').getByRole('cell').last()).not.toHaveText('Never');
  await expect(row(page, 'bob').getByRole('cell').last()).toHaveText('Never');

  const pager = page.getByRole('navigation', { name: 'Pages' });
  await expect(pager.getByText('Previous')).toHaveCSS('border-top-style', 'solid');
  await expect(pager.getByText('Next')).toHaveCSS('border-top-style', 'solid');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export these users as CSV' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^portcullis-users-\d{4}-\d\d-\d\d\.csv$/);
  const text = await new Promise<string>((resolve, reject) => {
    download.createReadStream().then((stream) => {
      let out = '';
      stream.on('data', (chunk) => (out += chunk));
      stream.on('end', () => resolve(out));
      stream.on('error', reject);
    }, reject);
  });
  const lines = text.trimEnd().split('\r\n');
  expect(lines[0]).toBe('"id","username","display_name","email","state","role","mfa_required","mfa_status","enrollment_ends_at","created_at","last_sign_in_at"');
  expect(lines).toHaveLength(5);
  expect(lines.find((l) => l.includes('"cleo"'))).toContain(`"'=HYPERLINK(""http://evil.example"")"`);

  // Filtered: only the expired user; and only an admin gets it at all.
  const filtered = await page.request.get(`${portal.url}/admin/users/export?status=expired`);
  expect(filtered.status()).toBe(200);
  expect(filtered.headers()['content-type']).toBe('text/csv; charset=utf-8');
  const rows = (await filtered.text()).trimEnd().split('\r\n');
  expect(rows).toHaveLength(2);
  expect(rows[1]).toContain('"xena"');
  const anonymous = await fetch(`${portal.url}/admin/users/export`, { redirect: 'manual' });
  expect(anonymous.status).not.toBe(200);
  expect(await anonymous.text()).not.toContain('xena');
});

test('the user page says what was saved in words, and tells that Reset TOTP (not Unlock) helps an expired user', async () => {
  const { page } = admin;
  await page.goto(`${portal.url}/admin/users/${ids.bob}`);
  await page.getByLabel('Display name').fill('Bob Baker');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toHaveText('Saved: the display name is now “Bob Baker”.');
  await expect(page.getByTestId('unlock-hint')).toHaveCount(0);

  await page.goto(`${portal.url}/admin/users/${ids.xena}`);
  await expect(page.getByTestId('unlock-hint')).toContainText('“Unlock sign-in” will not let them in');
  await page.getByTestId('unlock-hint').getByRole('link', { name: 'Reset TOTP' }).click();
  await expect(page).toHaveURL(/#reset-totp$/);
  // The reset keeps its confirm step.
  await expect(page.getByRole('button', { name: 'Reset TOTP MFA' })).toBeHidden();
  await page.getByText('Reset TOTP…', { exact: true }).click();
  await expect(page.getByRole('button', { name: 'Reset TOTP MFA' })).toBeVisible();
});

test('a new API key reads only by default, expires when asked, and can be copied', async () => {
  const { context, page } = admin;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: portal.url });
  await page.goto(`${portal.url}/admin/api-keys`);
  await expect(page.getByLabel('Access')).toHaveValue('read');
  await expect(page.getByLabel('Expires after (days)')).toHaveValue('90');
  await page.getByLabel('Key name').fill('dashboards');
  await page.getByLabel('Expires after (days)').fill('731');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByText('Expiry must be a whole number of days from 1 to 730, or none.')).toBeVisible();
  await page.getByLabel('Expires after (days)').fill('30');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'created' })).toContainText('read-only access; it stops working on');
  const key = (await page.getByTestId('shown-once').textContent())!;
  await page.getByRole('button', { name: 'Copy the API key' }).click();
  await expect(page.getByText('Copied.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  const stored = await withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('api_keys').select(['role', 'created_at', 'expires_at']).executeTakeFirstOrThrow());
  expect(stored.role).toBe('read');
  expect(Number(stored.expires_at) - Number(stored.created_at)).toBe(30 * oneDay);
  // The key works for reads now (its expiry is enforced by the same check: integration tests).
  const read = await fetch(`${portal.url}/api/v1/users`, { headers: { authorization: `Bearer ${key}` } });
  expect(read.status).toBe(200);
});

test('at 390 px the users list, a user page and the API keys page do not grow wider than the screen', async () => {
  const { page } = admin;
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/admin/users', `/admin/users/${ids.ada}`, '/admin/api-keys', '/admin/audit']) {
    await page.goto(`${portal.url}${path}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, path).toBeLessThanOrEqual(390);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

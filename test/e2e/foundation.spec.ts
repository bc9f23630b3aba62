import { expect, test } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';

// Personas: Alice is an active user; Sam is suspended.
let portal: Portal;

test.beforeAll(async () => {
  portal = await startPortal();
  await seedUsers(portal.databaseUrl, [
    { username: 'alice', password: 'correct horse battery', state: 'active', displayName: 'Alice Archer' },
    { username: 'sam', password: 'suspended staple', state: 'suspended' },
  ]);
});

test.afterAll(async () => {
  await portal?.stop();
});

test('Alice signs in, sees the User Portal, and signs out', async ({ page }) => {
  await signIn(page, portal.url, 'alice', 'correct horse battery');
  await expect(page).toHaveURL(`${portal.url}/portal`);
  await expectPortal(page, 'alice');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fportal$/);
});

test('a wrong password shows the same message as an unknown user', async ({ page }) => {
  await signIn(page, portal.url, 'alice', 'wrong horse');
  await expect(pageAlert(page)).toHaveText('Invalid username or password.');
  await signIn(page, portal.url, 'nobody-here', 'wrong horse');
  await expect(pageAlert(page)).toHaveText('Invalid username or password.');
});

test('Sam, suspended, is refused even with the right password', async ({ page }) => {
  await signIn(page, portal.url, 'sam', 'suspended staple');
  await expect(pageAlert(page)).toHaveText('This account cannot sign in. Contact your administrator.');
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveURL(/\/login/);
});

test('a session revoked in the database is refused on the next request', async ({ page }) => {
  await signIn(page, portal.url, 'alice', 'correct horse battery');
  await expectPortal(page, 'alice');
  await withDb(portal.databaseUrl, (db) => db.kysely.deleteFrom('sessions').execute());
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fportal$/);
});

test('an open-redirect return path falls back to /portal', async ({ page }) => {
  await page.goto(`${portal.url}/login?returnTo=${encodeURIComponent('//evil.example/phish')}`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${portal.url}/portal`);
});

test('the session cookie is HttpOnly and SameSite=Lax', async ({ page, context }) => {
  await signIn(page, portal.url, 'alice', 'correct horse battery');
  await expectPortal(page, 'alice');
  const cookie = (await context.cookies()).find((c) => c.name === 'portcullis.session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
  // The cookie carries an encrypted reference only: no username, no user id.
  expect(cookie!.value).not.toContain('alice');
});

test('without a session, /portal redirects to sign-in even with an x-middleware-subrequest header', async ({ request }) => {
  const attempts: Record<string, string>[] = [
    { 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' },
    { 'x-middleware-subrequest': 'src/middleware:middleware' },
    {},
  ];
  for (const headers of attempts) {
    const response = await request.get(`${portal.url}/portal`, { headers, maxRedirects: 0 });
    expect(response.status()).toBe(303);
    expect(response.headers()['location']).toMatch(/\/login\?returnTo=%2Fportal$/);
    expect(await response.text()).not.toContain('User Portal');
  }
});

import { expect, test, type APIRequestContext } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';

// POST /login/submit skips the middleware gate (middleware.ts matcher); these check, on the
// real server, that the route still guards itself and that signing in works as before.
// Personas: Alice is an active user.
let portal: Portal;

test.beforeAll(async () => {
  portal = await startPortal();
  await seedUsers(portal.databaseUrl, [{ username: 'alice', password: 'correct horse battery', state: 'active' }]);
});

test.afterAll(async () => {
  await portal?.stop();
});

const credentials = 'username=alice&password=correct+horse+battery&returnTo=%2Fportal';

/** The sign-in form's post, sent as a browser would from `origin`, without following the redirect. */
const postForm = (request: APIRequestContext, origin: string, data: string) =>
  request.post(`${portal.url}/login/submit`, {
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    data,
    maxRedirects: 0,
  });

test('a form post from another site is refused without signing anyone in', async ({ request }) => {
  const res = await postForm(request, 'http://evil.example', credentials);
  expect(res.status()).toBe(403);
  expect(res.headers()['set-cookie']).toBeUndefined();
});

test('a form larger than 8 KiB is refused', async ({ request }) => {
  const res = await postForm(request, portal.url, `${credentials}&padding=${'x'.repeat(9000)}`);
  expect(res.status()).toBe(413);
  expect(res.headers()['set-cookie']).toBeUndefined();
});

test('the same post from the portal’s own origin signs Alice in', async ({ request }) => {
  const res = await postForm(request, portal.url, credentials);
  expect(res.status()).toBe(303);
  expect(res.headers()['location']).toBe('/portal');
  expect(res.headers()['set-cookie']).toMatch(/^portcullis\.session=.+HttpOnly; SameSite=Lax/);
});

test('Alice signs in with the browser form, and a wrong password is still refused', async ({ page }) => {
  await signIn(page, portal.url, 'alice', 'wrong horse');
  await expect(pageAlert(page)).toHaveText('Invalid username or password.');
  await signIn(page, portal.url, 'alice', 'correct horse battery');
  await expect(page).toHaveURL(`${portal.url}/portal`);
  await expectPortal(page, 'alice');
});

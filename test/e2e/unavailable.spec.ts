import { expect, test } from '@playwright/test';
import { freePort } from '../support/local-processes';
import { startPortal, type Portal } from './support/server';
import { sessionCookieName } from '../../lib/auth/cookie';

// R-D10: a portal whose database cannot answer lets nobody through and shows no internals.
let portal: Portal;

test.beforeAll(async () => {
  const closedPort = await freePort(); // nothing listens there
  portal = await startPortal({
    env: {
      DATABASE_URL: `postgres://portcullis@127.0.0.1:${closedPort}/portcullis`,
      PORTCULLIS_SECRET: 'a-test-secret-that-is-long-enough-0123456789',
    },
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

test('protected pages and routes answer 503 with a plain page, never access, never a stack trace', async ({ request }) => {
  for (const path of ['/portal', '/portal/security', '/apps/demo', '/apps/demo/api/whoami', '/admin']) {
    const response = await request.get(`${portal.url}${path}`, { maxRedirects: 0 });
    expect(response.status(), path).toBe(503);
    const body = await response.text();
    expect(body).toContain('Temporarily unavailable');
    expect(body).not.toMatch(/ECONNREFUSED|\bat .+\.js:\d+|Error:/);
  }
});

test('the /mfa pages answer 503 with the plain page too, not a 500', async ({ request }) => {
  for (const path of [
    '/mfa/verify',
    '/mfa/verify?returnTo=%2Fportal&method=totp',
    '/mfa/setup',
    '/mfa/setup/totp',
    '/mfa/setup/totp/start',
    '/mfa/setup/webauthn',
    '/mfa/recovery-codes',
    '/mfa/recovered?returnTo=%2Fportal',
    '/mfa/locked',
    '/mfa/duo/unavailable',
    '/mfa/duo/callback?state=x&duo_code=y',
    '/MFA/%76erify',
  ]) {
    const response = await request.get(`${portal.url}${path}`, { maxRedirects: 0 });
    expect(response.status(), path).toBe(503);
    expect(response.headers()['retry-after'], path).toBe('30');
    const body = await response.text();
    expect(body, path).toContain('Temporarily unavailable');
    expect(body, path).not.toMatch(/ECONNREFUSED|\bat .+\.js:\d+|Error:/);
  }
});

test('sign-in fails closed too', async ({ request }) => {
  const response = await request.post(`${portal.url}/login/submit`, {
    headers: { Origin: portal.url },
    form: { username: 'alice', password: 'correct horse battery', returnTo: '/portal' },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(503);
  expect(response.headers()['set-cookie']).toBeUndefined();
  expect(await response.text()).toContain('Temporarily unavailable');
});

test('a person sees the plain page in the browser', async ({ page }) => {
  const response = await page.goto(`${portal.url}/portal`);
  expect(response?.status()).toBe(503);
  await expect(page.getByRole('heading', { name: 'Temporarily unavailable' })).toBeVisible();
});

test('the plain page is ours: one main landmark, a title, a way to try again', async ({ page }) => {
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveTitle('Temporarily unavailable · Portcullis');
  await expect(page.getByRole('main')).toHaveCount(1);
  await expect(page.getByRole('main')).toContainText('Sign-in is temporarily unavailable');
  await page.getByRole('link', { name: 'Try again' }).click();
  await expect(page.getByRole('heading', { name: 'Temporarily unavailable' })).toBeVisible();
});

test('Sam, signed in when the database went away, is not told that sign-in is unavailable', async ({ browser }) => {
  const context = await browser.newContext();
  // His cookie can't be checked without the database; that he holds one is enough to word it for him.
  await context.addCookies([{ name: sessionCookieName(portal.url), value: 'a-session-cookie', url: portal.url }]);
  const page = await context.newPage();
  for (const path of ['/portal', '/mfa/setup', '/apps/demo']) {
    const response = await page.goto(`${portal.url}${path}`);
    expect(response?.status(), path).toBe(503);
    await expect(page.getByRole('main'), path).toContainText('You are still signed in');
    await expect(page.getByRole('main'), path).not.toContainText('Sign-in is temporarily unavailable');
  }
  await context.close();
});

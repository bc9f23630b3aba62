import { expect, test, type Page } from '@playwright/test';
import { exampleHostsLaunchOptions } from './support/example-hosts';
import { cliActor } from '../../lib/admin/actor';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';
import { systemClock } from '../../lib/clock';
import { request } from './support/proxies';
import { startRemoteApp, type RemoteApp } from './support/remote-app';
import { seedUsers, withDb } from './support/seed';
import { startPortal, type Portal } from './support/server';
import { codeAt, currentStep } from './support/totp-codes';

/*
 * A separate Next.js app (test/fixtures/remote-app) protected by the remote gate,
 * `portcullis/next`: its middleware.ts is four lines, and its page and route handler check
 * again themselves (R-D9). The portal is http://portal.example.test:PORT, the app
 * http://remote.example.test:PORT; Chromium maps both to 127.0.0.1 and the session cookie
 * is set for example.test. Personas:
 * - Ada, an analyst without MFA: signs in through the portal and lands back on the report.
 * - Felix, in Finance, which a require-MFA policy on the `reports` resource covers: must set
 *   up TOTP before the app lets him in.
 * - Mallory: sends a Remote-User header of her own.
 */
const password = 'correct horse battery';
let portal: Portal;
let app: RemoteApp;

test.use({ launchOptions: exampleHostsLaunchOptions });

test.beforeAll(async () => {
  test.setTimeout(240_000); // the fixture app is built here when scripts/test.sh has not built it
  portal = await startPortal({
    originHost: 'portal.example.test',
    env: {
      PORTCULLIS_COOKIE_DOMAIN: 'example.test',
      PORTCULLIS_RESOURCES: 'remote.example.test/=reports',
      // The app's server asks from 127.0.0.1 with the browser's request in X-Forwarded-*.
      PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1',
    },
  });
  const ids = await seedUsers(
    portal.databaseUrl,
    ['ada', 'felix'].map((username) => ({ username, password, state: 'active' as const })),
  );
  await withDb(portal.databaseUrl, async (db) => {
    const k = db.kysely;
    const analysts = await createGroup(k, { name: 'Analysts' }, cliActor, systemClock);
    const finance = await createGroup(k, { name: 'Finance' }, cliActor, systemClock);
    await setGroupMembers(k, analysts.id, { userIds: [ids.ada!] }, cliActor, systemClock);
    await setGroupMembers(k, finance.id, { userIds: [ids.felix!] }, cliActor, systemClock);
    await createPolicy(
      k,
      {
        name: 'Finance needs MFA for reports',
        enabled: true,
        scope: 'groups',
        includeGroupIds: [finance.id],
        excludeGroupIds: [],
        conditions: {},
        resources: ['reports'],
        action: 'require_mfa',
        priority: 0,
      },
      cliActor,
      systemClock,
    );
  });
  // PORTCULLIS_URL: where the app's server reaches the portal (no example.test names outside
  // the browser); refusals send the browser to the portal's public URL.
  app = await startRemoteApp({ appHost: 'remote.example.test', portcullisUrl: `http://127.0.0.1:${portal.port}`, publicUrl: portal.url });
});

test.afterAll(async () => {
  await app?.stop();
  await portal?.stop();
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A same-origin request from the page the browser is on, with its cookies. */
function fetchFromPage(page: Page, path: string) {
  return page.evaluate(async (p) => {
    const res = await fetch(p, { redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  }, path);
}

/** On the portal's sign-in page the gate sent the browser to. */
async function signInOnPortal(page: Page, username: string) {
  await expect(page).toHaveURL(new RegExp(`^${escape(portal.url)}/login\\?`));
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('Ada, not signed in, is sent to the portal to sign in and lands back on the report she asked for', async ({ page }) => {
  const asked = app.urlFor('/reports?quarter=q3');
  await page.goto(asked);
  const login = new URL(page.url());
  expect(login.origin).toBe(portal.url);
  expect(login.searchParams.get('returnTo')).toBe(asked);

  await signInOnPortal(page, 'ada');
  await expect(page).toHaveURL(asked);
  await expect(page.getByRole('heading', { name: 'Hello ada' })).toBeVisible();
  await expect(page.getByTestId('groups')).toHaveText('Analysts');
  await expect(page.getByTestId('methods')).toHaveText('pwd');

  // The app's route handler checks again with the same cookie (asked from the page: only
  // the browser resolves example.test names).
  expect(await fetchFromPage(page, '/api/whoami')).toEqual({ status: 200, body: JSON.stringify({ username: 'ada', groups: ['Analysts'] }) });

  // And its server action, before it does anything.
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('status')).toHaveText('Approved by ada');
});

test('Felix, under a require-MFA policy on reports, must set up TOTP, then lands back on the report', async ({ page }) => {
  const asked = app.urlFor('/reports');
  await page.goto(asked);
  await signInOnPortal(page, 'felix');

  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  expect(new URL(page.url()).origin).toBe(portal.url);
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('Verification code').fill(codeAt(secret, currentStep()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();

  await expect(page).toHaveURL(asked);
  await expect(page.getByRole('heading', { name: 'Hello felix' })).toBeVisible();
  await expect(page.getByTestId('groups')).toHaveText('Finance');
  await expect(page.getByTestId('methods')).toContainText('totp');
});

test("Mallory's own Remote-User header makes no page show her as someone else", async ({ browser }) => {
  // Without a session: the gate sends her to sign in, whatever she claims.
  const anonymous = await request(app.port, 'remote.example.test', '/reports', { 'remote-user': 'ada', 'remote-groups': 'Analysts' });
  expect(anonymous.status).toBe(302);
  expect(anonymous.headers.location).toMatch(new RegExp(`^${escape(portal.url)}/login\\?`));
  expect(anonymous.body).not.toContain('Hello');

  // Signed in as Ada, every request of the browser also claims to be mallory in admins.
  const context = await browser.newContext({ extraHTTPHeaders: { 'Remote-User': 'mallory', 'Remote-Groups': 'admins' } });
  const page = await context.newPage();
  await page.goto(app.urlFor('/reports'));
  await signInOnPortal(page, 'ada');
  await expect(page.getByRole('heading', { name: 'Hello ada' })).toBeVisible();
  await expect(page.getByTestId('groups')).toHaveText('Analysts');
  await expect(page.getByText('mallory')).toHaveCount(0);
  await context.close();
});

// Last: it stops the portal.
test('with Portcullis stopped the app answers 503, never the page, cached allow or not', async ({ page }) => {
  await page.goto(app.urlFor('/reports'));
  await signInOnPortal(page, 'ada');
  await expect(page.getByRole('heading', { name: 'Hello ada' })).toBeVisible();

  await portal.stop();
  // A question not asked before: no allowed answer in the cache.
  const fresh = await page.goto(app.urlFor('/reports?after=stop'));
  expect(fresh?.status()).toBe(503);
  await expect(page.getByText('Hello')).toHaveCount(0);
  // The page asked a moment ago: once its allowed answer (5 s) has expired.
  await page.waitForTimeout(5_500);
  const again = await page.goto(app.urlFor('/reports'));
  expect(again?.status()).toBe(503);
  await expect(page.getByText('Hello')).toHaveCount(0);
  expect((await fetchFromPage(page, '/api/whoami')).status).toBe(503);
});

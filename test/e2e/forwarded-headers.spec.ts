import { expect, test, type Page } from '@playwright/test';
import { authenticator } from 'otplib';
import { cliActor } from '../../lib/admin/actor';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { systemClock } from '../../lib/clock';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';

/*
 * Next.js checks a server action's Origin against X-Forwarded-Host when
 * there is one, so a client that sends both as evil.example passed the check. The entry
 * server now drops X-Forwarded-Host/-Proto/-Port and Forwarded from untrusted peers.
 * Persona: Fiona renames her authenticator app from the Security page, once as herself,
 * once through a request a cross-site page rewrote (Mallory's headers).
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;

test.beforeAll(async () => {
  portal = await startPortal();
  const ids = await seedUsers(portal.databaseUrl, [{ username: 'fiona', password, state: 'active' }]);
  await withDb(portal.databaseUrl, (db) => requireMfaForUsers(db.kysely, { userIds: [ids.fiona!], enrollmentDays: 7 }, cliActor, systemClock));
});

test.afterAll(async () => {
  await portal?.stop();
});

const factorNames = () =>
  withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('factors').innerJoin('users', 'users.id', 'factors.user_id').select('factors.name').where('users.username', '=', 'fiona').execute(),
  ).then((rows) => rows.map((r) => r.name));

interface Captured {
  headers: Record<string, string>;
  body: Buffer;
}

/** Fiona's rename, as her browser sends it, caught before it reaches the portal. */
async function captureRename(page: Page, from: string, to: string): Promise<Captured> {
  const url = `${portal.url}/portal/security`;
  await page.goto(url);
  let resolveCaptured!: (c: Captured) => void;
  const captured = new Promise<Captured>((resolve) => (resolveCaptured = resolve));
  await page.route(url, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    resolveCaptured({ headers: await route.request().allHeaders(), body: route.request().postDataBuffer()! });
    return route.abort();
  });
  await page.getByLabel(`New name for ${from}`).fill(to);
  await page.getByRole('button', { name: `Rename ${from}` }).click();
  const result = await captured;
  await page.unroute(url);
  return result;
}

/** Sends the caught request again, with some headers changed; the cookie comes from the context. */
function replay(page: Page, captured: Captured, headers: Record<string, string>) {
  const { cookie: _cookie, ...kept } = captured.headers;
  return page.request.post(`${portal.url}/portal/security`, { headers: { ...kept, ...headers }, data: captured.body, maxRedirects: 0 });
}

test('a server action with Origin and X-Forwarded-Host both evil.example is refused', async ({ page }) => {
  await signIn(page, portal.url, 'fiona', password);
  await page.getByRole('button', { name: 'Continue' }).click();
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('Verification code').fill(authenticator.clone({ epoch: Math.floor(Date.now() / stepMs) * stepMs }).generate(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expectPortal(page, 'fiona');
  expect(await factorNames()).toEqual(['Authenticator app']);

  const rename = await captureRename(page, 'Authenticator app', 'Owned by Mallory');
  expect(rename.headers['next-action']).toBeTruthy();

  // Mallory's copy: Origin and X-Forwarded-Host both evil.example (and -Proto to match).
  const forged = await replay(page, rename, { origin: 'http://evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' });
  expect(forged.status()).toBeGreaterThanOrEqual(400);
  expect(await factorNames()).toEqual(['Authenticator app']);
  const forwarded = await replay(page, rename, { origin: 'https://evil.example', forwarded: 'host=evil.example;proto=https', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443' });
  expect(forwarded.status()).toBeGreaterThanOrEqual(400);
  expect(await factorNames()).toEqual(['Authenticator app']);

  // Control: the same request from the portal's own page goes through.
  const own = await replay(page, rename, { origin: portal.url });
  expect(own.status()).toBe(200);
  expect(await factorNames()).toEqual(['Owned by Mallory']);
});

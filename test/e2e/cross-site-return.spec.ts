import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { codeAt, currentStep } from './support/totp-codes';
import { exampleHostsLaunchOptions } from './support/example-hosts';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { createPolicy } from '../../lib/admin/policies';

/*
 * Sessions across subdomains (issue 14, section 2; R-D12). The portal runs at
 * http://portal.example.test:<port> with PORTCULLIS_COOKIE_DOMAIN=example.test and declares
 * the wiki at app.example.test; a tiny app there shows the Cookie header it received.
 * Chromium maps *.example.test to 127.0.0.1. Personas:
 * - Wendy: nothing requires MFA of her; she signs in and lands on the wiki page she asked for.
 * - Theo: a require-MFA policy targets the wiki (a PORTCULLIS_RESOURCES resource); he sets up
 *   TOTP, later passes verify, and each time lands back on the wiki page.
 * - Eve's links: return targets on hosts nobody declared end on /portal.
 */
const password = 'correct horse battery';
let portal: Portal;
let app: http.Server;
let appOrigin: string;

test.use({ launchOptions: exampleHostsLaunchOptions });

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  // The wiki: echoes the Host and Cookie it received, nothing else.
  app = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    res.end(`<!doctype html><title>Wiki</title><h1>Wiki</h1><p data-testid="host">${escape(req.headers.host ?? '')}</p><pre data-testid="cookie">${escape(req.headers.cookie ?? '')}</pre>`);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://app.example.test:${(app.address() as AddressInfo).port}`;

  portal = await startPortal({
    originHost: 'portal.example.test',
    env: { PORTCULLIS_COOKIE_DOMAIN: 'example.test', PORTCULLIS_RESOURCES: 'app.example.test/=wiki' },
  });
  await seedUsers(portal.databaseUrl, ['wendy', 'theo', 'eve'].map((username) => ({ username, password, state: 'active' as const })));
  await withDb(portal.databaseUrl, (db) =>
    createPolicy(db.kysely, { name: 'Wiki needs MFA', enabled: true, scope: 'all', resources: ['wiki'], action: 'require_mfa' }, cliActor, systemClock),
  );
});

test.afterAll(async () => {
  await portal?.stop();
  await new Promise((resolve) => app?.close(resolve));
});

async function signInAt(page: Page, returnTo: string, username: string) {
  await page.goto(`${portal.url}/login?returnTo=${encodeURIComponent(returnTo)}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The wiki page `url` is open, and the wiki got the portal's session cookie. */
async function expectOnWiki(page: Page, url: string) {
  await expect(page).toHaveURL(url);
  await expect(page.getByRole('heading', { name: 'Wiki' })).toBeVisible();
  await expect(page.getByTestId('cookie')).toContainText(/(^|; )portcullis\.session=[\w-]+\.[\w-]*\./);
}

test('Wendy signs in from a wiki link and lands on that exact wiki page, with the session cookie on example.test', async ({ page }) => {
  const target = `${appOrigin}/wiki/page?rev=2#intro`;
  await signInAt(page, target, 'wendy');
  await expectOnWiki(page, target);
  const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'portcullis.session');
  expect(cookie).toMatchObject({ domain: '.example.test', path: '/', httpOnly: true, secure: false, sameSite: 'Lax' });
  // The same cookie makes her signed in on the portal.
  await page.goto(`${portal.url}/portal`);
  await expectPortal(page, 'wendy');
  // Signing out clears the cookie on example.test (a clear without the Domain would leave it).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  expect((await page.context().cookies()).filter((c) => c.name === 'portcullis.session')).toEqual([]);
  await page.goto(target);
  await expect(page.getByTestId('cookie')).not.toContainText('portcullis.session');
});

test('Theo sets up TOTP for the wiki and lands back on it; later he passes verify and lands on it again', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const target = `${appOrigin}/wiki/page`;
  await signInAt(page, target, 'theo');
  await expectOnWiki(page, target);

  // What the forward-auth endpoint sends him to for the wiki: Set Up (the policy needs MFA there).
  await page.goto(`${portal.url}/mfa/setup?returnTo=${encodeURIComponent(target)}`);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  const step = currentStep();
  await page.getByLabel('Verification code').fill(codeAt(secret, step));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expectOnWiki(page, target);

  // A new browser, without JavaScript this time: the verify form is a plain post whose 303
  // to the wiki the CSP's form-action must allow.
  const later = await browser.newContext({ javaScriptEnabled: false });
  const again = await later.newPage();
  await signInAt(again, target, 'theo');
  await expectOnWiki(again, target);
  await again.goto(`${portal.url}/mfa/verify?returnTo=${encodeURIComponent(target)}`);
  // The enrollment spent its step: the next one (within the accepted window).
  await again.getByLabel('Verification code').fill(codeAt(secret, step + 1));
  await again.getByRole('button', { name: 'Verify' }).click();
  await expectOnWiki(again, target);
  await later.close();
});

test("return targets on hosts nobody declared, or in the wrong form, end on /portal", async ({ page }) => {
  test.setTimeout(120_000);
  const offsite: string[] = [];
  await page.route(
    (url) => url.hostname !== 'portal.example.test',
    (route) => {
      offsite.push(route.request().url());
      return route.fulfill({ status: 200, body: 'somewhere else' });
    },
  );
  const appPort = new URL(appOrigin).port;
  const targets = [
    `http://evil.example.test:${appPort}/wiki/page`,
    'http://evil.example/wiki',
    `http://app.example.test.evil.example:${appPort}/wiki`,
    `http://evil.example#@app.example.test:${appPort}/wiki`,
    `http://eve@app.example.test:${appPort}/wiki`,
    `//app.example.test:${appPort}/wiki`,
  ];
  await signInAt(page, targets[0]!, 'eve');
  await expectPortal(page, 'eve');
  for (const target of targets.slice(1)) {
    await page.goto(`${portal.url}/login?returnTo=${encodeURIComponent(target)}`);
    // Signed in already: the sign-in page shows the form again; post it.
    await page.getByLabel('Username').fill('eve');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectPortal(page, 'eve');
    expect(new URL(page.url()).pathname, target).toBe('/portal');
  }
  expect(offsite).toEqual([]);
});

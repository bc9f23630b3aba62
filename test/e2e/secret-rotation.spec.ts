import { randomBytes } from 'node:crypto';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { insertEnrolledTotp, seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';
import { authenticatorApp } from './support/totp-codes';
import { runCliWithTsx } from '../integration/support/cli';

/*
 * Rotating PORTCULLIS_SECRET on the production build, as the README's "Rotating the secret"
 * tells an operator to: the portal runs with secret A, restarts with "B,A", rotate-secrets
 * re-seals the stored secrets, and it restarts with "B" alone.
 * - Ada signed in under A: still signed in after the restart with "B,A"; signed out when A is
 *   dropped (how an operator forces everyone out).
 * - Tom set up his authenticator app under A: his code still works after rotate-secrets with
 *   "B,A", and after the restart with "B" only (his secret is sealed under B by then).
 */
const password = 'correct horse battery';
const tomSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
let portal: Portal;

test.beforeAll(async () => {
  portal = await startPortal();
  const ids = await seedUsers(portal.databaseUrl, ['ada', 'tom'].map((username) => ({ username, password, state: 'active' as const })));
  await withDb(portal.databaseUrl, (db) => insertEnrolledTotp(db.kysely, { userId: ids.tom!, secret: tomSecret, portalSecret: portal.secret, name: 'Tom’s phone', id: 'factor-tom' }));
});

test.afterAll(async () => {
  await portal?.stop();
});

async function signInWithCode(browser: Browser, code: () => Promise<string>): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, portal.url, 'tom', password);
  await expect(page).toHaveURL(/\/mfa\/verify\?returnTo=%2Fportal/);
  await page.getByLabel('Verification code').fill(await code());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, 'tom');
  return page;
}

test('A to B: sessions survive "B,A", stored secrets move to B, and dropping A signs out only what A signed', async ({ browser }) => {
  test.setTimeout(150_000);
  const A = portal.secret;
  const B = randomBytes(32).toString('hex');
  const tomsApp = authenticatorApp(tomSecret);

  const ada = await (await browser.newContext()).newPage();
  await signIn(ada, portal.url, 'ada', password);
  await expectPortal(ada, 'ada');

  await portal.restart({ env: { PORTCULLIS_SECRET: `${B},${A}` } });
  await ada.goto(`${portal.url}/portal`);
  await expectPortal(ada, 'ada');

  const rotation = await runCliWithTsx({ DATABASE_URL: portal.databaseUrl, PORTCULLIS_DATA_DIR: portal.dataDir, PORTCULLIS_SECRET: `${B},${A}` }, 'rotate-secrets');
  expect(rotation.stderr).toBe('');
  expect(rotation.stdout.trim()).toBe('re-sealed 1 of 1 sealed secrets; 0 already current');
  expect(rotation.code).toBe(0);
  const tom = await signInWithCode(browser, () => tomsApp.nextCode());

  await portal.restart({ env: { PORTCULLIS_SECRET: B } });
  await ada.goto(`${portal.url}/portal`);
  await expect(ada).toHaveURL(/\/login\?returnTo=%2Fportal$/);
  await tom.goto(`${portal.url}/portal`); // his cookie was made under B
  await expectPortal(tom, 'tom');
  await signInWithCode(browser, () => tomsApp.nextCode());
});

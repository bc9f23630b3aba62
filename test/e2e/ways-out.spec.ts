import { expect, test, type Browser, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { authenticator } from 'otplib';
import { authenticatorApp } from './support/totp-codes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode, totpSecretContext } from '../../lib/factors/totp';

/*
 * Issue 16, "Dead ends": every page a person can be stuck on has a way out, and it works.
 * Personas:
 * - Felix: in Finance, under a require-MFA policy → forced Set Up, no skip.
 * - Sofia: MFA required for her alone, period running → optional Set Up.
 * - Dora: a contractor, denied the demo app by the policy "No contractors in the demo app".
 * - Ada: an admin with an authenticator app.
 * - Val: a visitor, not signed in.
 */
const password = 'correct horse battery';
const stepMs = 30_000;
const adaSecret = base32Encode(randomBytes(20));
let portal: Portal;
let ids: Record<string, string>;

test.beforeAll(async () => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'felix', password, state: 'active' },
    { username: 'sofia', password, state: 'active' },
    { username: 'dora', password, state: 'active' },
    { username: 'ada', password, state: 'active', role: 'admin' },
    { username: 'sven', password, state: 'active' },
  ]);
  const ring = createKeyring([portal.secret]);
  await withDb(portal.databaseUrl, async (db) => {
    const k = db.kysely;
    await requireMfaForUsers(k, { userIds: [ids.sofia!] }, cliActor, systemClock);
    const finance = await createGroup(k, { name: 'Finance' }, cliActor, systemClock);
    const contractors = await createGroup(k, { name: 'Contractors' }, cliActor, systemClock);
    await setGroupMembers(k, finance.id, { userIds: [ids.felix!] }, cliActor, systemClock);
    await setGroupMembers(k, contractors.id, { userIds: [ids.dora!] }, cliActor, systemClock);
    const policy = { enabled: true, scope: 'groups', excludeGroupIds: [], conditions: {}, priority: 0 } as const;
    await createPolicy(k, { ...policy, name: 'Finance needs MFA', includeGroupIds: [finance.id], resources: ['portal', 'demo'], action: 'require_mfa' }, cliActor, systemClock);
    await createPolicy(k, { ...policy, name: 'No contractors in the demo app', includeGroupIds: [contractors.id], resources: ['demo'], action: 'deny' }, cliActor, systemClock);
    const now = Date.now();
    await insertTotpFactor(k, {
      id: 'factor-ada',
      userId: ids.ada!,
      name: 'Ada’s phone',
      secretSealed: sealSecret(adaSecret, totpSecretContext(ids.ada!), ring),
      enrolledStep: Math.floor(now / stepMs) - 10,
      now,
    });
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

const liveSessions = (username: string) =>
  withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('sessions').select('id').where('user_id', '=', ids[username]!).execute());

/** Signed out for real: at the sign-in page, no session row left, and the portal asks to sign in again. */
async function expectSignedOut(page: Page, username: string) {
  await expect(page).toHaveURL(`${portal.url}/login`);
  await expect(page.getByRole('heading', { name: 'Sign in to Portcullis' })).toBeVisible();
  expect(await liveSessions(username)).toHaveLength(0);
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fportal/);
}

async function newPage(browser: Browser, options: { viewport?: { width: number; height: number } } = {}): Promise<Page> {
  return (await browser.newContext(options)).newPage();
}

/** Ada's authenticator app. */
const adaApp = authenticatorApp(adaSecret);

async function adaSignsIn(page: Page, path: string) {
  await signIn(page, portal.url, 'ada', password, path);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(await adaApp.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
}

test('Felix, forced to set up MFA, can sign out from the Set Up page', async ({ browser }) => {
  const page = await newPage(browser);
  await signIn(page, portal.url, 'felix', password);
  await expect(page).toHaveURL(/\/mfa\/setup\?returnTo=/);
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectSignedOut(page, 'felix');
  await page.context().close();
});

test('Felix’s authenticator step offers sign-out, not a Cancel that loops back to the same Set Up page', async ({ browser }) => {
  const page = await newPage(browser);
  await signIn(page, portal.url, 'felix', password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  await expect(page.getByRole('link', { name: 'Cancel' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectSignedOut(page, 'felix');
  await page.context().close();
});

test('Sofia, whose Set Up is optional, cancels the authenticator step back to Set Up and skips', async ({ browser }) => {
  const page = await newPage(browser);
  await signIn(page, portal.url, 'sofia', password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  await page.getByRole('link', { name: 'Cancel' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\?returnTo=%2Fportal/);
  await page.getByRole('button', { name: 'Skip for now' }).click();
  await expectPortal(page, 'sofia');
  await page.context().close();
});

test('Dora, denied the demo app, is told which policy, given a reference the admin can find, and can sign out', async ({ browser }) => {
  const page = await newPage(browser);
  await signIn(page, portal.url, 'dora', password);
  await expectPortal(page, 'dora');
  await page.goto(`${portal.url}/apps/demo`);
  await expect(page).toHaveURL(`${portal.url}/denied`);
  await expect(page).toHaveTitle('Access denied · Portcullis');
  await expect(page.getByRole('main').getByRole('alert')).toContainText('“No contractors in the demo app”');
  const entry = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').select(['id', 'target_id']).where('action', '=', 'access.denied').where('actor_id', '=', ids.dora!).executeTakeFirstOrThrow(),
  );
  expect(entry.target_id).toBe('demo');
  await expect(page.getByTestId('denial-reference')).toHaveText(`#${Number(entry.id)}`);
  // No internals: no rule ids, no addresses.
  await expect(page.getByRole('main')).not.toContainText('R-D2');
  await expect(page.getByRole('main')).not.toContainText('127.0.0.1');
  await page.getByRole('link', { name: 'Go to the User Portal' }).click();
  await expectPortal(page, 'dora');
  await page.goto(`${portal.url}/apps/demo`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectSignedOut(page, 'dora');
  await page.context().close();
});

test('Ada signs out from the admin console', async ({ browser }) => {
  const page = await newPage(browser);
  await adaSignsIn(page, '/admin/users');
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectSignedOut(page, 'ada');
  await page.goto(`${portal.url}/admin`);
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fadmin/);
  await page.context().close();
});

test('Val, at an address that does not exist, gets our 404 with a way home', async ({ browser }) => {
  const page = await newPage(browser);
  const response = await page.goto(`${portal.url}/no/such/page`);
  expect(response?.status()).toBe(404);
  await expect(page).toHaveTitle('Page not found · Portcullis');
  await expect(page.getByRole('main')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the User Portal' }).click();
  await expect(page).toHaveURL(/\/login\?returnTo=%2Fportal/);
  await page.context().close();
});

test('next-auth’s own pages are not reachable: signout asks on our page and signs out for real; signin and error are our sign-in', async ({ browser }) => {
  // Sven: no requirement, a browser of his own, so his session is the only one he has.
  const page = await newPage(browser);
  await signIn(page, portal.url, 'sven', password);
  await expectPortal(page, 'sven');
  await page.goto(`${portal.url}/api/auth/signout`);
  await expect(page).toHaveURL(`${portal.url}/signout`);
  await expect(page).toHaveTitle('Sign out · Portcullis');
  expect(await liveSessions('sven')).toHaveLength(1); // the GET alone signed nobody out
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectSignedOut(page, 'sven');
  for (const path of ['/api/auth/signin', '/api/auth/error?error=Configuration']) {
    await page.goto(`${portal.url}${path}`);
    await expect(page, path).toHaveURL(`${portal.url}/login`);
    await expect(page.getByRole('heading', { name: 'Sign in to Portcullis' })).toBeVisible();
  }
  await page.goto(`${portal.url}/signout`);
  await expect(page.getByText('You are signed out.')).toBeVisible();
  await page.context().close();
});

test('the skip link is the first stop of the keyboard and lands past the console’s navigation; the focus ring is our own', async ({ browser }) => {
  const page = await newPage(browser);
  await adaSignsIn(page, '/admin');
  await expect(page).toHaveTitle(/ · Portcullis admin$/);
  // A page as it loads (the sign-in left the focus where its form was).
  await page.goto(`${portal.url}/admin`);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  // The next stop is inside <main>, not the console's navigation.
  expect(await page.evaluate(() => !!document.activeElement?.closest('main') && !document.activeElement?.closest('nav'))).toBe(true);

  // A blue button focused by keyboard: a ring of at least 2 px, in a colour apart from the button's.
  await page.goto(`${portal.url}/portal`);
  const signOut = page.getByRole('button', { name: 'Sign out' });
  await signOut.focus();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  await expect(signOut).toBeFocused();
  const ring = await signOut.evaluate((el) => {
    const style = getComputedStyle(el);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), colour: style.outlineColor, background: style.backgroundColor };
  });
  expect(ring.style).toBe('solid');
  expect(ring.width).toBeGreaterThanOrEqual(2);
  expect(ring.colour).not.toBe(ring.background);
  await page.context().close();
});

test('at 390 px the Security table stays inside its card and the rename field keeps a usable width', async ({ browser }) => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await adaSignsIn(page, '/portal/security');
  await expect(page.getByRole('heading', { name: 'Security', exact: true })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const card = await page.getByRole('main').boundingBox();
  const table = await page.getByRole('table').boundingBox();
  expect(table!.x).toBeGreaterThanOrEqual(card!.x);
  expect(table!.x + table!.width).toBeLessThanOrEqual(card!.x + card!.width + 0.5);
  const rename = await page.getByRole('textbox', { name: /New name for/ }).boundingBox();
  expect(rename!.width).toBeGreaterThanOrEqual(120);
  await page.context().close();
});

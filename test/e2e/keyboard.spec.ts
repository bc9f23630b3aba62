import { randomBytes } from 'node:crypto';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb, insertEnrolledTotp } from './support/seed';
import { tabTo } from './support/a11y';
import { codeAt, currentStep } from './support/totp-codes';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';

import { base32Encode } from '../../lib/factors/totp';

/*
 * Keyboard only (issue 16, Tests): every step below is Tab, Shift+Tab, Enter, Space and
 * typing on page.keyboard; locators only read where the focus is and what the page says.
 * The one address typed is the first one, as a person opens a bookmark.
 * Personas:
 * - Nina the new user: MFA required of her. She signs in, sets up an authenticator app,
 *   saves her recovery codes and signs out.
 * - Ada the admin (an authenticator app of her own) requires MFA of Bea and Cal, and not Dan.
 */
const password = 'correct horse battery';
let portal: Portal;
let ids: Record<string, string>;
const adaSecret = base32Encode(randomBytes(20));

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin' },
    { username: 'nina', password, state: 'active', email: 'nina@example.test' },
    ...['bea', 'cal', 'dan'].map((username) => ({ username, password, state: 'active' as const })),
  ]);
  await withDb(portal.databaseUrl, async (db) => {
    await insertEnrolledTotp(db.kysely, { userId: ids.ada!, secret: adaSecret, portalSecret: portal.secret });
    await requireMfaForUsers(db.kysely, { userIds: [ids.nina] }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

/**
 * Known gaps, not fixed yet, each with its owner (e.g. `focusRing: 'owner: why'`): while
 * `focusRing` is listed, the ring is reported as an annotation instead of asserted.
 */
const knownGaps = {} as Record<string, string>;

/**
 * The focused element shows a ring of its own: an outline at least 2 px wide, or a box
 * shadow (the browser's thin default ring is too faint on blue buttons).
 */
async function expectFocusRing(target: Locator) {
  await expect(target).toBeFocused();
  const ring = await target.evaluate((el) => {
    const style = getComputedStyle(el);
    return { outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth), shadow: style.boxShadow };
  });
  const visible = ring.outline >= 2 || ring.shadow !== 'none';
  const message = `a visible focus ring (outline ${ring.outline}px, box-shadow ${ring.shadow})`;
  if (knownGaps.focusRing) {
    test.info().annotations.push({ type: 'known gap', description: `${message}: ${visible ? 'present now, remove knownGaps.focusRing' : knownGaps.focusRing}` });
    return;
  }
  expect(visible, message).toBe(true);
}

/** Tabs (or Shift+Tabs) to a field and types into it. */
async function typeInto(page: Page, field: Locator, text: string, { backwards = false } = {}) {
  await tabTo(page, field, { backwards });
  await page.keyboard.type(text);
}

/** Signs in from the sign-in form by keyboard: name, Tab, password, Enter. */
async function signInByKeyboard(page: Page, username: string) {
  await expect(page).toHaveURL(/\/login/);
  await typeInto(page, page.getByLabel('Username'), username);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

test('Nina signs in, sets up an authenticator app, saves her recovery codes and signs out, by keyboard alone', async ({ page }) => {
  await page.goto(`${portal.url}/portal`);
  await signInByKeyboard(page, 'nina');

  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  const authenticatorApp = page.getByRole('radio', { name: /Authenticator app/ });
  await expect(authenticatorApp).toBeChecked();
  const proceed = page.getByRole('button', { name: 'Continue' });
  await tabTo(page, proceed);
  await expectFocusRing(proceed);
  await page.keyboard.press('Enter');

  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  // The code field has the focus when the page opens; the device name is just before it.
  await typeInto(page, page.getByLabel('Device name'), 'Nina’s phone', { backwards: true });
  await typeInto(page, page.getByLabel('Verification code'), codeAt(secret, currentStep()));
  await page.keyboard.press('Enter');

  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
  const saved = page.getByRole('button', { name: /I saved my recovery codes/ });
  await tabTo(page, saved);
  await expectFocusRing(saved);
  await page.keyboard.press('Space');

  await expect(page.getByRole('heading', { name: 'User Portal' })).toBeVisible();
  // Sign out sits at the end of the page: back from the end is the short way there.
  const signOut = page.getByRole('button', { name: 'Sign out' }).last();
  await tabTo(page, signOut, { backwards: true });
  await expectFocusRing(signOut);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/login$/);

  const factors = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('factors').select(['type', 'name']).where('user_id', '=', ids.nina!).execute(),
  );
  expect(factors).toEqual([{ type: 'totp', name: 'Nina’s phone' }]);
});

test('Ada requires MFA of Bea and Cal from the users list, by keyboard alone', async ({ page }) => {
  await page.goto(`${portal.url}/admin`);
  await signInByKeyboard(page, 'ada');
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await typeInto(page, page.getByLabel('Verification code'), codeAt(adaSecret, currentStep()));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Admin console' })).toBeVisible();

  const usersLink = page.getByRole('navigation', { name: 'Admin console' }).getByRole('link', { name: 'Users', exact: true });
  await tabTo(page, usersLink);
  await expectFocusRing(usersLink);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Users', exact: true })).toBeVisible();

  for (const username of ['bea', 'cal']) {
    const box = page.getByRole('checkbox', { name: `Select ${username}` });
    await tabTo(page, box);
    await expectFocusRing(box);
    await page.keyboard.press('Space');
    await expect(box).toBeChecked();
  }
  await expect(page.getByRole('checkbox', { name: 'Select dan' })).not.toBeChecked();

  // The bulk actions sit above the table: back up to them.
  const menu = page.getByRole('main').locator('summary', { hasText: 'More actions' });
  await tabTo(page, menu, { backwards: true });
  await expectFocusRing(menu);
  await page.keyboard.press('Enter');
  const requireMfa = page.getByRole('button', { name: 'Require MFA on User Portal' });
  await tabTo(page, requireMfa);
  await expectFocusRing(requireMfa);
  await page.keyboard.press('Enter');

  await expect(page.getByRole('main').getByRole('status').first()).toBeVisible();
  const required = await withDb(portal.databaseUrl, (db) =>
    db.kysely
      .selectFrom('mfa_requirements as r')
      .innerJoin('users as u', 'u.id', 'r.user_id')
      .select('u.username')
      .where('u.username', 'in', ['bea', 'cal', 'dan'])
      .orderBy('u.username')
      .execute(),
  );
  expect(required.map((r) => r.username)).toEqual(['bea', 'cal']);
});

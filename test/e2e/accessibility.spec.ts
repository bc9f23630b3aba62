import { randomBytes } from 'node:crypto';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { freePort } from '../support/local-processes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb, insertEnrolledTotp } from './support/seed';
import { signIn } from './support/pages';
import { axeViolations, desktop, elementsPastTheEdge, horizontalOverflow, phone } from './support/a11y';
import { authenticatorApp, codeAt, currentStep, wrongCode } from './support/totp-codes';
import { cliActor } from '../../lib/admin/actor';
import { oneDay, systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { createApiKey } from '../../lib/admin/api-keys';

import { sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode } from '../../lib/factors/totp';
import { accountTokenOf, issueAccountToken } from '../../lib/auth/account-tokens';

/*
 * The accessibility pass of issue 16: every page of the portal and the adminPage, in each state
 * a test can reach, checked with axe-core (WCAG 2.1 A and AA, and axe's best practices) at
 * 1280 px and at 390 px, where the page must not scroll sideways either. Every route must
 * have a title of its own, not the bare product name. One portal, seeded once; a person's
 * browser and an admin's.
 * Personas:
 * - Nina the new user: MFA required, her period running. She sets up an authenticator app,
 *   saves her recovery codes, and later signs in with one of them.
 * - Lars: his period ended without a second factor: locked.
 * - Dora: a contractor, denied the demo app by policy.
 * - Ivy: invited, her link still open; Otto: his reset link expired.
 * - Ada the admin, with an authenticator app of her own.
 */

/**
 * Violations seen and not fixed yet, by page label (as in the failure messages) and axe rule
 * id. Each entry names its owner in a comment; an entry whose violation is gone is reported
 * as an annotation ("known violation gone"): remove it then.
 */
const knownViolations: Record<string, string[]> = {};

const password = 'correct horse battery';
let portal: Portal;
let ids: Record<string, string>;
const adaSecret = base32Encode(randomBytes(20));
const links: Record<'invitation' | 'expired', string> = { invitation: '', expired: '' };
let contractorsId: string;
let denyPolicyId: string;
let offPolicyId: string;

test.beforeAll(async () => {
  portal = await startPortal();
  ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, state: 'active', role: 'admin', email: 'ada@example.test', displayName: 'Ada Lovelace' },
    { username: 'nina', password, state: 'active', email: 'nina@example.test', displayName: 'Nina New' },
    { username: 'lars', password, state: 'active' },
    { username: 'dora', password, state: 'active', email: 'dora@example.test' },
    { username: 'ivy', state: 'active', email: 'ivy@example.test' },
    { username: 'otto', password, state: 'active', email: 'otto@example.test' },
  ]);
  await withDb(portal.databaseUrl, async (db) => {
    const k = db.kysely;
    const now = Date.now();
    await saveMfaSettings(k, { totp: true, webauthn: true, duo: false }, cliActor, systemClock, { sealSecret: async (s) => s });
    await insertEnrolledTotp(k, { userId: ids.ada!, secret: adaSecret, portalSecret: portal.secret });
    await requireMfaForUsers(k, { userIds: [ids.nina, ids.lars], enrollmentDays: 7 }, cliActor, systemClock);
    const ended = now - oneDay;
    await k.updateTable('mfa_requirements').set({ period_starts_at: ended - 7 * oneDay, period_ends_at: ended }).where('user_id', '=', ids.lars!).execute();
    const contractors = await createGroup(k, { name: 'Contractors' }, cliActor, systemClock);
    contractorsId = contractors.id;
    await setGroupMembers(k, contractors.id, { userIds: [ids.dora] }, cliActor, systemClock);
    const policy = await createPolicy(
      k,
      { name: 'No contractors in the demo app', enabled: true, scope: 'groups', includeGroupIds: [contractors.id], resources: ['demo'], action: 'deny' },
      cliActor,
      systemClock,
    );
    denyPolicyId = policy.id;
    // OFF, so its switch-ON page shows the impact preview (issue 18 §5).
    offPolicyId = (await createPolicy(k, { name: 'Everyone MFA on demo', resources: ['demo'], action: 'require_mfa' }, cliActor, systemClock)).id;
    await createApiKey(k, { name: 'provisioning', role: 'read' }, cliActor, systemClock);
    const invitation = await k.transaction().execute((trx) =>
      issueAccountToken(trx, { userId: ids.ivy!, purpose: 'invitation', now, expiresAt: now + 7 * oneDay, createdBy: null, secret: portal.secret }),
    );
    links.invitation = accountTokenOf(invitation.id, portal.secret);
    const expired = await k.transaction().execute((trx) =>
      issueAccountToken(trx, { userId: ids.otto!, purpose: 'password_reset', now: now - oneDay, expiresAt: now - oneDay + 1000, createdBy: null, secret: portal.secret }),
    );
    links.expired = accountTokenOf(expired.id, portal.secret);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

/** Titles seen, by route: a route may show several states, and each state a title. */
const titles = new Map<string, Set<string>>();
const seenViolations = new Set<string>();

/** The route of the page's address: ids become [id] (the not-found page passes its own name). */
function routeOf(page: Page): string {
  return new URL(page.url()).pathname.replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/g, '/[id]');
}

/**
 * Checks the page as it stands: axe at 1280 px, then at 390 px with no sideways scrolling,
 * and records its title under its route (each route's title must be its own). `state` names
 * the state of the page, when it is not the plain one.
 */
async function audit(page: Page, state?: string, route = routeOf(page)) {
  const label = state ? `${route} (${state})` : route;
  await page.waitForLoadState('load');
  // After a client-side navigation Next.js sets the new title as its metadata streams in.
  let title = '';
  await expect.poll(async () => (title = await page.title()), { message: `${label}: a title`, timeout: 15_000 }).not.toBe('');
  titles.set(route, (titles.get(route) ?? new Set()).add(title));
  for (const size of [desktop, phone]) {
    await page.setViewportSize(size);
    if (size === phone) {
      const overflow = await horizontalOverflow(page);
      const culprits = overflow > 0 ? (await elementsPastTheEdge(page)).join('; ') : '';
      expect.soft(overflow, `${label}: overflow at ${size.width} px, in px: ${culprits}`).toBeLessThanOrEqual(0);
    }
    const known = new Set(knownViolations[label] ?? []);
    const found = await axeViolations(page);
    for (const v of found) if (known.has(v.id)) seenViolations.add(`${label}|${v.id}`);
    expect.soft(found.filter((v) => !known.has(v.id)).map((v) => v.line), `${label}: axe at ${size.width} px`).toEqual([]);
  }
  await page.setViewportSize(desktop);
}

/**
 * Presses a confirm step's button and waits for the page it leads to: a server action's
 * redirect (a notice or an error on the same page, the recovery codes, "confirm it's you").
 */
async function confirmAndLeave(page: Page, button: Locator) {
  const before = page.url();
  await button.click();
  await page.waitForURL((url) => url.href !== before);
  await page.waitForLoadState('networkidle');
}

/** Ada's authenticator app. */
const adaApp = authenticatorApp(adaSecret);

test('every page passes axe at 1280 and 390 px, fits 390 px, and has a title of its own', async ({ browser }) => {
  // Axe is CPU-bound: about a minute on an idle 2-core machine, several on a loaded one.
  test.setTimeout(600_000);
  const context = await browser.newContext({ viewport: desktop });
  const page = await context.newPage();

  await test.step('signed out: sign-in, forgotten password, account links, 404', async () => {
    await page.goto(`${portal.url}/login`);
    await audit(page);
    await signIn(page, portal.url, 'nina', 'not her password', '/login');
    await expect(page.getByRole('main').getByRole('alert')).toBeVisible();
    await audit(page, 'wrong password');

    await page.goto(`${portal.url}/login/forgot`);
    await audit(page);
    await page.getByLabel('Username or email address').fill('otto');
    await page.getByRole('button', { name: 'Send link' }).click();
    await expect(page.getByRole('main').getByRole('status')).toBeVisible();
    await audit(page, 'answered');

    await page.goto(`${portal.url}/account/password?token=${links.invitation}`);
    await expect(page.getByTestId('link-username')).toHaveText('ivy');
    await audit(page, 'invitation open');
    await page.goto(`${portal.url}/account/password?token=${links.expired}`);
    await audit(page, 'reset link expired');
    await page.goto(`${portal.url}/account/password?token=${randomBytes(32).toString('base64url')}`);
    await audit(page, 'unknown link');

    const missing = await page.goto(`${portal.url}/no-such-page`);
    expect(missing?.status()).toBe(404);
    await audit(page, undefined, '404');
  });

  let recoveryCodes: string[] = [];
  let secret = '';
  await test.step('Nina sets up an authenticator app and saves her recovery codes', async () => {
    await signIn(page, portal.url, 'nina', password);
    await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
    await audit(page);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
    await expect(page.getByRole('img', { name: 'QR code' })).toBeVisible();
    await audit(page);
    secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
    await page.getByLabel('Verification code').fill(wrongCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('main').getByRole('alert')).toBeVisible();
    await audit(page, 'wrong code');
    await page.getByLabel('Verification code').fill(codeAt(secret, currentStep()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
    recoveryCodes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes.length).toBeGreaterThan(1);
    await audit(page);
    await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
    await expect(page.getByRole('heading', { name: 'User Portal' })).toBeVisible();
    await audit(page, 'setup done');
  });

  await test.step('Nina signs in again: the challenge, a wrong code, a recovery code', async () => {
    await context.clearCookies();
    await signIn(page, portal.url, 'nina', password);
    await expect(page).toHaveURL(/\/mfa\/verify\?/);
    await audit(page);
    await page.getByLabel('Verification code').fill(wrongCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('main').getByRole('alert')).toBeVisible();
    await audit(page, 'wrong code');
    await page.goto(`${portal.url}/mfa/verify?returnTo=%2Fportal&method=recovery`);
    await expect(page.getByLabel('Recovery code')).toBeVisible();
    await audit(page, 'recovery code');
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page).toHaveURL(/\/mfa\/recovered\?/);
    await audit(page);
  });

  await test.step('Nina’s portal, the Security page and its confirm steps, the security key page, the demo app, the console refused', async () => {
    await page.goto(`${portal.url}/portal`);
    await audit(page);
    await page.goto(`${portal.url}/portal/security`);
    await audit(page);
    // Each destructive action opens its confirm step first, then acts.
    await page.locator('summary', { hasText: 'Remove…' }).first().click();
    await expect(page.getByRole('group', { name: /^Confirm: Remove / }).first()).toBeVisible();
    await audit(page, 'remove: confirm step open');
    await confirmAndLeave(page, page.getByRole('group', { name: /^Confirm: Remove / }).first().getByRole('button'));
    await audit(page, 'remove confirmed');
    await page.goto(`${portal.url}/portal/security`);
    await page.locator('summary', { hasText: 'Generate new recovery codes…' }).click();
    await expect(page.getByRole('group', { name: 'Confirm: Generate new recovery codes' })).toBeVisible();
    await audit(page, 'new codes: confirm step open');
    await confirmAndLeave(page, page.getByRole('group', { name: 'Confirm: Generate new recovery codes' }).getByRole('button'));
    await audit(page, 'new codes confirmed');
    await page.goto(`${portal.url}/mfa/setup/webauthn?returnTo=%2Fportal%2Fsecurity`);
    await audit(page);
    await page.goto(`${portal.url}/apps/demo`);
    await audit(page);
    const refused = await page.goto(`${portal.url}/admin`);
    expect(refused?.status()).toBe(403);
    await audit(page, 'not an admin');
  });

  await test.step('Lars is locked; Dora is denied the demo app', async () => {
    await context.clearCookies();
    await signIn(page, portal.url, 'lars', password);
    await expect(page).toHaveURL(/\/mfa\/locked$/);
    await audit(page);
    await context.clearCookies();
    await signIn(page, portal.url, 'dora', password, '/apps/demo');
    await expect(page).toHaveURL(/\/denied/);
    await audit(page);
  });
  await context.close();

  const admin = await browser.newContext({ viewport: desktop });
  const adminPage = await admin.newPage();
  await test.step('the admin console, every page', async () => {
    await signIn(adminPage, portal.url, 'ada', password, '/admin');
    await expect(adminPage).toHaveURL(/\/mfa\/verify\?/);
    await adminPage.getByLabel('Verification code').fill(await adaApp.nextCode());
    await adminPage.getByRole('button', { name: 'Verify' }).click();
    await expect(adminPage.getByRole('heading', { name: 'Admin console' })).toBeVisible();
    await audit(adminPage);

    for (const path of [
      '/admin/users',
      '/admin/users/new',
      `/admin/users/${ids.nina}`,
      '/admin/groups',
      `/admin/groups/${contractorsId}`,
      '/admin/policies',
      '/admin/policies/new',
      `/admin/policies/${denyPolicyId}`,
      `/admin/policies/${offPolicyId}/switch-on`,
      '/admin/settings',
      '/admin/audit',
      '/admin/outbox',
      '/admin/api-keys',
    ]) {
      await adminPage.goto(`${portal.url}${path}`);
      await audit(adminPage);
      // Menus and confirm steps are <details>: open them all, as an admin would one by one.
      const opened = await adminPage.evaluate(() => {
        const closed = Array.from(document.querySelectorAll('main details:not([open])'));
        for (const d of closed) (d as HTMLDetailsElement).open = true;
        return closed.length;
      });
      if (opened > 0) await audit(adminPage, 'menus and confirm steps open');
    }
  });

  await test.step('the console’s forms with errors, and a new API key', async () => {
    await adminPage.goto(`${portal.url}/admin/users/new`);
    await adminPage.getByRole('button', { name: 'Create user' }).click();
    await expect(adminPage.getByRole('main').getByRole('alert').first()).toBeVisible();
    await audit(adminPage, 'errors');
    await adminPage.goto(`${portal.url}/admin/api-keys`);
    await adminPage.getByLabel('Key name').fill('reporting');
    await adminPage.getByRole('button', { name: 'Create key' }).click();
    await expect(adminPage.getByTestId('shown-once')).toBeVisible();
    await audit(adminPage, 'new key shown');
  });
  await admin.close();

  await test.step('each route has a title of its own', async () => {
    const owner = new Map<string, string>();
    for (const [route, seen] of titles) {
      for (const title of seen) {
        expect.soft(title.trim(), `${route}: a title`).not.toBe('');
        expect.soft(['Portcullis', 'Portcullis admin'], `${route}: "${title}" says more than the product name`).not.toContain(title.trim());
        const other = owner.get(title);
        expect.soft(other, `${route}: "${title}" is also the title of ${other}`).toBeUndefined();
        owner.set(title, route);
      }
    }
  });

  // Not a failure, so the owner's fix can land first: the annotation says what to remove.
  for (const entry of Object.entries(knownViolations).flatMap(([label, rules]) => rules.map((rule) => `${label}|${rule}`))) {
    if (!seenViolations.has(entry)) test.info().annotations.push({ type: 'known violation gone', description: `${entry}: remove it from knownViolations` });
  }
});

test('the 503 page, when the database cannot answer, passes axe at both widths and has a title of its own', async ({ browser }) => {
  test.setTimeout(180_000);
  const closedPort = await freePort(); // nothing listens there
  const down = await startPortal({
    env: { DATABASE_URL: `postgres://portcullis@127.0.0.1:${closedPort}/portcullis`, PORTCULLIS_SECRET: 'a-test-secret-that-is-long-enough-0123456789' },
  });
  const context = await browser.newContext({ viewport: desktop });
  try {
    const page = await context.newPage();
    const response = await page.goto(`${down.url}/portal`);
    expect(response?.status()).toBe(503);
    await audit(page, 'database down');
    const title = await page.title();
    expect(['', 'Portcullis', 'Portcullis admin'], `"${title}" says more than the product name`).not.toContain(title.trim());
  } finally {
    await context.close();
    await down.stop();
  }
});

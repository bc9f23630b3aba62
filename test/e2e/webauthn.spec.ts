import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { authenticator as otp } from 'otplib';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { createKeyring } from '../../lib/crypto/secret-box';
import { sealDuoClientSecret } from '../../lib/factors/duo';

/*
 * WebAuthn in Chromium with its virtual authenticator (CDP WebAuthn domain: CTAP2, internal
 * transport, resident keys, user verification). The portal runs on http://localhost, a
 * secure context with a valid RP ID (an IP address is not one). Personas, all required to
 * use MFA on the User Portal:
 * - Wanda: TOTP and WebAuthn enabled; picks a passkey at Set Up, is brought back to set up
 *   TOTP too (R-E3), signs in with the key, adds a second key and removes the first.
 * - Tess: picks a key, walks away from the TOTP step; the next sign-in brings her back (R-E3).
 * - Vera: Duo and WebAuthn enabled; must set up a key (R-E4), and Duo is no setup step (R-E5).
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;
let base: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  base = `http://localhost:${portal.port}`;
  await portal.restart({ env: { PORTCULLIS_ORIGIN: base } });
  const ids = await seedUsers(
    portal.databaseUrl,
    ['wanda', 'tess', 'vera'].map((username) => ({ username, password, state: 'active' as const })),
  );
  await withDb(portal.databaseUrl, async (db) => {
    await requireMfaForUsers(db.kysely, { userIds: Object.values(ids), enrollmentDays: 7 }, cliActor, systemClock);
  });
  await setMethods({ totp: true, webauthn: true, duo: false });
});

test.afterAll(async () => {
  await portal?.stop();
});

/** Org MFA settings through the admin service, as the console saves them. */
async function setMethods(methods: { totp: boolean; webauthn: boolean; duo: boolean }) {
  await withDb(portal.databaseUrl, (db) =>
    saveMfaSettings(
      db.kysely,
      {
        ...methods,
        ...(methods.duo
          ? {
              duoConfig: {
                clientId: 'DIWJ8X6AEYOR5OMC6TQ1',
                clientSecret: 'Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdo',
                apiHost: 'api-1234abcd.duosecurity.com',
                redirectUri: `${base}/mfa/duo/callback`,
              },
            }
          : {}),
      },
      cliActor,
      systemClock,
      { sealSecret: (plain) => sealDuoClientSecret(plain, createKeyring([portal.secret])) },
    ),
  );
}

interface VirtualAuthenticator {
  cdp: CDPSession;
  id: string;
}

async function addAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, id: authenticatorId };
}

async function credentialsOf(a: VirtualAuthenticator) {
  return (await a.cdp.send('WebAuthn.getCredentials', { authenticatorId: a.id })).credentials;
}

async function factorsOf(username: string) {
  return withDb(portal.databaseUrl, (db) =>
    db.kysely
      .selectFrom('factors')
      .innerJoin('users', 'users.id', 'factors.user_id')
      .select(['factors.id', 'factors.type', 'factors.name', 'factors.credential_id', 'factors.sign_count'])
      .where('users.username', '=', username)
      .orderBy('factors.created_at')
      .execute(),
  );
}

async function lastAudit(action: string, username: string) {
  return withDb(portal.databaseUrl, (db) =>
    db.kysely
      .selectFrom('audit_log')
      .select(['details'])
      .where('action', '=', action)
      .where('actor_label', '=', username)
      .orderBy('id', 'desc')
      .executeTakeFirst(),
  );
}

/** On the key registration page: name the key and let the virtual authenticator answer. */
async function registerKey(page: Page, name: string) {
  await expect(page.getByRole('heading', { name: 'Register a security key or passkey' })).toBeVisible();
  await page.getByLabel('Key name').fill(name);
  await page.getByRole('button', { name: 'Register security key' }).click();
}

/** After a key was the first factor: the codes, worded for a key (not "If you lose your phone"). */
async function acknowledgeRecoveryCodes(page: Page) {
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
  await expect(page.getByTestId('setup-done')).toHaveText('Your security key is set up.');
  await expect(page.getByRole('main')).toContainText('If you lose your security key');
  await expect(page.getByRole('main')).not.toContainText('phone');
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
}

async function setUpTotp(page: Page) {
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  const step = Math.floor(Date.now() / stepMs);
  await page.getByLabel('Verification code').fill(otp.clone({ epoch: step * stepMs }).generate(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
}

async function signOut(page: Page) {
  await page.context().clearCookies();
}

async function signInWithKey(page: Page, username: string) {
  await signIn(page, base, username, password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByRole('button', { name: 'Use security key' }).click();
}

/** CDP reports credential ids in base64; the portal stores base64url. */
const asBase64url = (id: string) => Buffer.from(id, 'base64').toString('base64url');

test.describe('Wanda (TOTP and WebAuthn enabled)', () => {
  // One browser page for all of Wanda's steps: the virtual authenticator lives with its page.
  let page: Page;
  let key: VirtualAuthenticator;
  test.beforeAll(async ({ browser }) => {
    page = await (await browser.newContext()).newPage();
    key = await addAuthenticator(page);
  });
  test.afterAll(async () => {
    await page.context().close();
  });

  test('R-E3: she picks a passkey at Set Up (TOTP is preselected) and is brought back to set up TOTP as well', async () => {
    await signIn(page, base, 'wanda', password);
    await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
    const totpChoice = page.getByRole('radio', { name: /Authenticator app/ });
    const keyChoice = page.getByRole('radio', { name: /Security key or passkey/ });
    await expect(totpChoice).toBeChecked();
    await expect(keyChoice).not.toBeChecked();
    await keyChoice.check();
    await page.getByRole('button', { name: 'Continue' }).click();

    await registerKey(page, 'Laptop passkey');
    await acknowledgeRecoveryCodes(page); // her first factor
    await setUpTotp(page); // R-E3: back to TOTP
    await expectPortal(page, 'wanda');

    const credentials = await credentialsOf(key);
    expect(credentials).toHaveLength(1);
    const factors = await factorsOf('wanda');
    expect(factors.map((f) => [f.type, f.name])).toEqual([
      ['webauthn', 'Laptop passkey'],
      ['totp', 'Authenticator app'],
    ]);
    expect(factors[0]!.credential_id).toBe(asBase64url(credentials[0]!.credentialId));
  });

  test('she signs in with her key', async () => {
    await signOut(page);
    await signInWithKey(page, 'wanda');
    await expectPortal(page, 'wanda');
    expect(JSON.parse((await lastAudit('mfa.verify_succeeded', 'wanda'))!.details!)).toMatchObject({ method: 'webauthn' });
    expect((await factorsOf('wanda'))[0]!.sign_count).toBeGreaterThan(0);
  });

  test('she adds a second key from the Security page, then removes the first', async () => {
    // A second physical key: a second authenticator. The first leaves the machine for now,
    // so the browser cannot pick it (it holds an excluded credential).
    const laptop = await credentialsOf(key);
    await key.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: key.id });
    key = await addAuthenticator(page);

    await page.goto(`${base}/portal/security`);
    await page.getByRole('button', { name: 'Add a security key' }).click();
    await registerKey(page, 'Backup key');
    await expect(page).toHaveURL(/\/portal\/security/);
    await expect(page.getByRole('status')).toHaveText('Added “Backup key”.');
    const rows = page.getByTestId('factor-row');
    await expect(rows).toHaveCount(3);
    await expect(rows.filter({ hasText: 'Backup key' }).getByRole('cell').nth(0)).toHaveText('Security key or passkey');
    expect(JSON.parse((await lastAudit('mfa.factor_enrolled', 'wanda'))!.details!)).toMatchObject({ type: 'webauthn', name: 'Backup key' });

    // Both keys on hand again (one authenticator keeps one discoverable credential per user and
    // site, so the laptop's comes back as a non-discoverable one); she removes the laptop one.
    for (const credential of laptop) {
      await key.cdp.send('WebAuthn.addCredential', { authenticatorId: key.id, credential: { ...credential, isResidentCredential: false } });
    }
    expect(await credentialsOf(key)).toHaveLength(2);
    await page.getByLabel('Remove Laptop passkey…').click(); // the confirm step first
    await page.getByRole('button', { name: 'Remove Laptop passkey' }).click();
    await expect(page.getByRole('status')).toHaveText('Removed.');
    await expect(rows).toHaveCount(2);
    await expect(page.getByRole('cell', { name: 'Laptop passkey' })).toHaveCount(0);
    expect((await factorsOf('wanda')).map((f) => f.name)).toEqual(['Authenticator app', 'Backup key']);
    expect(JSON.parse((await lastAudit('mfa.factor_removed', 'wanda'))!.details!)).toMatchObject({ type: 'webauthn', name: 'Laptop passkey' });

    // The remaining key still signs her in; the portal only asks for the one it knows.
    await signOut(page);
    await signInWithKey(page, 'wanda');
    await expectPortal(page, 'wanda');
    const backup = (await factorsOf('wanda')).find((f) => f.name === 'Backup key')!;
    expect(JSON.parse((await lastAudit('mfa.verify_succeeded', 'wanda'))!.details!)).toEqual({ method: 'webauthn', factorId: backup.id });
  });
});

test('R-E3: Tess leaves after her key, before TOTP; her next sign-in brings her back to the TOTP setup', async ({ browser }) => {
  const page = await (await browser.newContext()).newPage();
  await addAuthenticator(page);
  await signIn(page, base, 'tess', password);
  await page.getByRole('radio', { name: /Security key or passkey/ }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await registerKey(page, 'Tess key');
  await acknowledgeRecoveryCodes(page);
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  await page.getByRole('link', { name: 'Cancel' }).click();
  await expectPortal(page, 'tess');

  await signOut(page);
  await signInWithKey(page, 'tess');
  await setUpTotp(page);
  await expectPortal(page, 'tess');
  expect((await factorsOf('tess')).map((f) => f.type)).toEqual(['webauthn', 'totp']);
  await page.context().close();
});

test('R-E4: with Duo and WebAuthn enabled, Vera must set up a security key; Duo is no setup step (R-E5)', async ({ browser }) => {
  await setMethods({ totp: false, webauthn: true, duo: true });
  const page = await (await browser.newContext()).newPage();
  await addAuthenticator(page);
  await signIn(page, base, 'vera', password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await expect(page.getByRole('radio')).toHaveCount(1);
  await expect(page.getByRole('radio', { name: /Security key or passkey/ })).toBeChecked();
  await expect(page.getByRole('radio', { name: /Duo|Authenticator app/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Continue' }).click();

  await registerKey(page, 'Vera key');
  await acknowledgeRecoveryCodes(page);
  await expectPortal(page, 'vera'); // no TOTP step: TOTP is off
  expect((await factorsOf('vera')).map((f) => f.type)).toEqual(['webauthn']);

  // At the verify step Duo is offered beside her key (R-E5); she uses the key.
  await signOut(page);
  await signIn(page, base, 'vera', password);
  await expect(page.getByRole('button', { name: 'Use Duo' })).toBeVisible();
  await page.getByRole('button', { name: 'Use security key' }).click();
  await expectPortal(page, 'vera');
  await page.context().close();
});

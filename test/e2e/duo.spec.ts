import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { authenticator as otp } from 'otplib';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { createPolicy, deletePolicy } from '../../lib/admin/policies';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { insertTotpFactor } from '../../db/queries/factors';
import { duoTimeoutMs, sealDuoClientSecret } from '../../lib/factors/duo';
import { newTotpSecret, stepAt, totpSecretContext } from '../../lib/factors/totp';
import { startFakeDuo, type FakeDuo } from '../fakes/duo/server';
import { authenticatorApp } from './support/totp-codes';

/*
 * Duo Universal Prompt end to end: Chromium → portal → the fake Duo (HTTPS, a certificate
 * made for this run) → back to the portal. The portal's Duo client is the official one
 * with its pinned authorities; the server process is started with a test-only preload
 * (test/fakes/duo/trust-preload.cjs) that adds the fake's certificate to them.
 * Personas (TOTP and Duo enabled, MFA required, each with an authenticator app too):
 * - Dana signs in with Duo; her attempts also meet a forged state, Mallory's code, a
 *   replayed callback, and a Duo that is down, slow or failing.
 */
const password = 'correct horse battery';
const stepMs = 30_000;
let portal: Portal;
let duo: FakeDuo;
let redirectUri: string;
const secrets: Record<string, string> = {};
const apps: Record<string, ReturnType<typeof authenticatorApp>> = {};

test.describe.configure({ mode: 'serial' });
test.use({ ignoreHTTPSErrors: true }); // the browser visits the fake's self-signed HTTPS; the server does not skip checks

test.beforeAll(async () => {
  duo = await startFakeDuo();
  const preload = path.resolve(__dirname, '..', 'fakes', 'duo', 'trust-preload.cjs');
  portal = await startPortal({
    env: {
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${preload}`].filter(Boolean).join(' '),
      PORTCULLIS_TEST_DUO_CA_FILE: duo.caFile,
    },
  });
  redirectUri = `${portal.url}/mfa/duo/callback`;
  const ids = await seedUsers(
    portal.databaseUrl,
    ['dana', 'mallory'].map((username) => ({ username, password, state: 'active' as const })),
  );
  const ring = createKeyring([portal.secret]);
  await withDb(portal.databaseUrl, async (db) => {
    await saveMfaSettings(
      db.kysely,
      { totp: true, webauthn: false, duo: true, duoConfig: { clientId: duo.clientId, clientSecret: duo.clientSecret, apiHost: duo.apiHost, redirectUri } },
      cliActor,
      systemClock,
      { sealSecret: (plain) => sealDuoClientSecret(plain, ring) },
    );
    await requireMfaForUsers(db.kysely, { userIds: Object.values(ids), enrollmentDays: 7 }, cliActor, systemClock);
    // An authenticator app each, as if set up earlier (the fallback when Duo is down).
    for (const [username, userId] of Object.entries(ids)) {
      secrets[username] = newTotpSecret();
      await insertTotpFactor(db.kysely, {
        id: randomUUID(),
        userId,
        name: 'Phone',
        secretSealed: sealSecret(secrets[username]!, totpSecretContext(userId), ring),
        enrolledStep: stepAt(Date.now()) - 10,
        now: Date.now(),
      });
    }
  });
});

test.afterAll(async () => {
  await portal?.stop();
  await duo?.close();
});

test.beforeEach(() => {
  duo.mode = 'ok';
  duo.prompt = 'redirect';
  duo.calls.length = 0;
});

async function audits(action: string, username: string): Promise<Record<string, unknown>[]> {
  const rows = await withDb(portal.databaseUrl, (db) =>
    db.kysely.selectFrom('audit_log').select('details').where('action', '=', action).where('actor_label', '=', username).orderBy('id').execute(),
  );
  return rows.map((r) => JSON.parse(r.details ?? '{}'));
}

async function toVerify(page: Page, username: string) {
  await signIn(page, portal.url, username, password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
}

/**
 * Goes to Duo with the fake's prompt page on, and follows its "Approve" link back to the
 * portal after `edit` changed it (what an attacker in the middle could try).
 */
async function approveEdited(page: Page, edit: (url: URL) => void) {
  duo.prompt = 'page';
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expect(page.getByRole('heading', { name: 'Duo Security (fake)' })).toBeVisible();
  const back = new URL((await page.getByRole('link', { name: 'Approve' }).getAttribute('href'))!);
  edit(back);
  await page.goto(back.toString());
}

const refusedMessage = 'Duo did not confirm it’s you. Try again, or use another method.';

test('Dana signs in with Duo: to Duo and back into the portal', async ({ page }) => {
  await toVerify(page, 'dana');
  const callbacks: string[] = [];
  page.on('request', (r) => r.url().startsWith(redirectUri) && callbacks.push(r.url()));
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expectPortal(page, 'dana');
  expect(duo.calls.map((c) => [c.endpoint, c.ok, c.username])).toEqual([
    ['health_check', true, undefined],
    ['authorize', true, 'dana'],
    ['token', true, 'dana'],
  ]);
  expect(callbacks).toHaveLength(1);
  expect((await audits('mfa.verify_succeeded', 'dana')).at(-1)).toEqual({ method: 'duo' });
  replayable = callbacks[0]!;
});

let replayable = '';

test('a callback replayed by someone holding only Dana’s password is refused', async ({ page }) => {
  expect(replayable).not.toBe('');
  await toVerify(page, 'dana');
  await page.goto(replayable);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await expect(pageAlert(page)).toHaveText(refusedMessage);
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  expect(duo.calls.filter((c) => c.endpoint === 'token')).toEqual([]);
});

test('a state that does not match is refused, and Dana can try again', async ({ page }) => {
  await toVerify(page, 'dana');
  await approveEdited(page, (url) => url.searchParams.set('state', 'x'.repeat(43)));
  await expect(pageAlert(page)).toHaveText(refusedMessage);
  expect((await audits('mfa.verify_failed', 'dana')).at(-1)).toEqual({ method: 'duo', reason: 'state_mismatch' });

  duo.prompt = 'redirect';
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expectPortal(page, 'dana');
});

test('Mallory’s Duo code is refused for Dana', async ({ page }) => {
  await toVerify(page, 'dana');
  await approveEdited(page, (url) => url.searchParams.set('duo_code', duo.mintCode('mallory', redirectUri)));
  await expect(pageAlert(page)).toHaveText(refusedMessage);
  expect((await audits('mfa.verify_failed', 'dana')).at(-1)).toEqual({ method: 'duo', reason: 'wrong_user' });
  await page.goto(`${portal.url}/portal`);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
});

test('Dana, whose app is her first method, ticks "don’t ask again" on the Duo step; her next sign-in skips the challenge (R-D15)', async ({ page }) => {
  const policy = await withDb(portal.databaseUrl, (db) =>
    createPolicy(db.kysely, { name: 'Portal remembers', enabled: true, resources: ['portal'], action: 'require_mfa', rememberDays: 7 }, cliActor, systemClock),
  );
  try {
    await toVerify(page, 'dana');
    await expect(page.getByLabel('Verification code')).toBeVisible();
    // The box in the code's form would not travel with a Duo button: "Use Duo" opens the Duo step, with its own box.
    await page.getByRole('button', { name: 'Use Duo' }).click();
    await page.getByLabel('Don’t ask again on this device for 7 days').check();
    await page.getByRole('button', { name: 'Use Duo' }).click();
    await expectPortal(page, 'dana');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login/);
    await signIn(page, portal.url, 'dana', password);
    await expectPortal(page, 'dana');
  } finally {
    await withDb(portal.databaseUrl, (db) => deletePolicy(db.kysely, policy.id, cliActor, systemClock));
  }
});

async function expectDuoUnavailable(page: Page, username: string, reason: string) {
  // A hanging Duo holds the navigation for the whole client deadline (duoTimeoutMs) first.
  await expect(page.getByRole('heading', { name: 'Duo is unavailable' })).toBeVisible({ timeout: duoTimeoutMs + 10_000 });
  await expect(page).toHaveURL(/\/mfa\/duo\/unavailable\?/);
  expect((await audits('mfa.duo_unavailable', username)).at(-1)).toMatchObject({ method: 'duo', reason });
  // Her other factors are offered; the authenticator app gets her in.
  await expect(page.getByRole('link', { name: 'Use a recovery code' })).toHaveCount(0); // she has no codes
  await page.getByRole('link', { name: 'Use your authenticator app' }).click();
  // Each time step works once per user: never reuse the one an earlier test spent.
  apps[username] ??= authenticatorApp(secrets[username]!);
  await page.getByLabel('Verification code').fill(await apps[username].nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, username);
}

test('fails closed when the health check says Duo is down', async ({ page }) => {
  await toVerify(page, 'dana');
  duo.mode = 'down';
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expectDuoUnavailable(page, 'dana', 'http_503');
});

test('fails closed when the token exchange errors', async ({ page }) => {
  await toVerify(page, 'mallory');
  duo.mode = 'token_error'; // health check and prompt work; the code exchange fails
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expectDuoUnavailable(page, 'mallory', 'http_500:server_error');
});

test('fails closed when Duo does not answer in time', async ({ page }) => {
  test.slow();
  await toVerify(page, 'dana');
  duo.mode = 'hang';
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expectDuoUnavailable(page, 'dana', 'timeout');
});

test('R-E5: with Duo alone, Otto (no factors in Portcullis) is sent to Duo, never to a Set Up step', async ({ page }) => {
  const ids = await seedUsers(portal.databaseUrl, [{ username: 'otto', password, state: 'active' }]);
  await withDb(portal.databaseUrl, async (db) => {
    await requireMfaForUsers(db.kysely, { userIds: [ids.otto!] }, cliActor, systemClock);
    await saveMfaSettings(db.kysely, { totp: false, webauthn: false, duo: true }, cliActor, systemClock, {
      sealSecret: (plain) => sealDuoClientSecret(plain, createKeyring([portal.secret])),
    });
  });
  await toVerify(page, 'otto');
  await expect(page.getByRole('button', { name: 'Use a recovery code' })).toHaveCount(0);
  await expect(page.getByLabel('Verification code')).toHaveCount(0);
  await page.getByRole('button', { name: 'Use Duo' }).click();
  await expectPortal(page, 'otto');
  expect(duo.calls.filter((c) => c.endpoint === 'authorize').map((c) => c.username)).toEqual(['otto']);
});

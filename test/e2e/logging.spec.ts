import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { codeAt, currentStep, stepMs, wrongCode } from './support/totp-codes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, pageAlert, signIn } from './support/pages';
import { insertTotpFactor } from '../../db/queries/factors';
import { createKeyring, sealSecret } from '../../lib/crypto/secret-box';
import { base32Encode, totpSecretContext } from '../../lib/factors/totp';
import { cliActor } from '../../lib/admin/actor';
import { systemClock } from '../../lib/clock';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';

/*
 * What the production server writes while people sign in, enroll and verify: JSON lines,
 * request-scoped ones with the request id the response carried, and never a credential.
 * Frank signs in with his password, enrolls an authenticator app, fails a code and passes
 * the next. Gina's device was sealed under a key this server does not have, so her attempt
 * takes the logged error path ("cannot be opened") inside a server action.
 */
const password = 'correct horse battery staple';
const foreignServerSecret = randomBytes(32).toString('hex');
const ginaSecret = base32Encode(randomBytes(20));
let portal: Portal;

/** Everything the log must never contain, gathered as the run goes. */
const secrets = new Map<string, string>();

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  portal = await startPortal();
  secrets.set('PORTCULLIS_SECRET', portal.secret);
  secrets.set('the password', password);
  secrets.set('Gina’s TOTP secret', ginaSecret);
  secrets.set('the other server’s secret', foreignServerSecret);
  const ids = await seedUsers(portal.databaseUrl, [
    { username: 'frank', password, state: 'active' },
    { username: 'gina', password, state: 'active' },
  ]);
  await withDb(portal.databaseUrl, async (db) => {
    const k = db.kysely;
    const forced = await createGroup(k, { name: 'Forced MFA' }, cliActor, systemClock);
    await setGroupMembers(k, forced.id, { userIds: [ids.frank!, ids.gina!] }, cliActor, systemClock);
    await createPolicy(k, { name: 'Forced MFA', enabled: true, scope: 'groups', includeGroupIds: [forced.id], resources: ['portal'], action: 'require_mfa' }, cliActor, systemClock);
    const now = Date.now();
    await insertTotpFactor(k, {
      id: 'factor-gina',
      userId: ids.gina!,
      name: 'Gina’s phone',
      secretSealed: sealSecret(ginaSecret, totpSecretContext(ids.gina!), createKeyring([foreignServerSecret])),
      enrolledStep: Math.floor(now / stepMs) - 10,
      now,
    });
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

/** Types a code on the verify page and returns the X-Request-Id of the post that carried it. */
async function submitCode(page: Page, code: string): Promise<string> {
  await page.getByLabel('Verification code').fill(code);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/mfa/')),
    page.getByRole('button', { name: 'Verify' }).click(),
  ]);
  const reqId = response.headers()['x-request-id'];
  expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
  return reqId!;
}

async function rememberCookies(page: Page, who: string) {
  for (const cookie of await page.context().cookies()) {
    // Short values (flags) could match anything; every credential cookie is long.
    if (cookie.value.length >= 16) secrets.set(`${who}’s cookie ${cookie.name}`, cookie.value);
  }
}

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  [key: string]: unknown;
}

/** The server's output: its JSON lines, after checking every other line is the harness's or Next.js's own banner. */
function serverLines(): LogLine[] {
  const text = fs.readFileSync(portal.logFile, 'utf8');
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    // Next.js prints this one line itself, outside any logger, when it loads the config.
    const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
    if (plain.trim() === '' || plain.startsWith('--- ') || /^✓ Running next\.config\.js took \d+ms$/.test(plain)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
    expect(parsed).toMatchObject({ level: expect.any(Number), time: expect.any(String), msg: expect.any(String) });
    lines.push(parsed as LogLine);
  }
  return lines;
}

test('Frank signs in with his password, enrolls TOTP, fails a code and passes the next', async ({ page }) => {
  await signIn(page, portal.url, 'frank', password);
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  secrets.set('Frank’s TOTP secret', secret);
  await rememberCookies(page, 'Frank (pending)');
  const step = currentStep();
  const enrollment = codeAt(secret, step);
  secrets.set('the enrollment code', enrollment);
  await submitCode(page, enrollment);
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  const recoveryCodes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  recoveryCodes.forEach((c, i) => secrets.set(`recovery code ${i + 1}`, c));
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expectPortal(page, 'frank');
  await rememberCookies(page, 'Frank (enrolled)');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, portal.url, 'frank', password);
  await expect(page.getByLabel('Verification code')).toBeVisible();
  const wrong = wrongCode(secret);
  secrets.set('the wrong code', wrong);
  await submitCode(page, wrong);
  await expect(pageAlert(page)).toHaveText(/That code didn’t work/);
  await page.goto(`${portal.url}/mfa/verify?returnTo=%2Fportal`);
  const right = codeAt(secret, step + 1);
  secrets.set('the sign-in code', right);
  await submitCode(page, right);
  await expectPortal(page, 'frank');
  await rememberCookies(page, 'Frank (signed in)');
});

let ginaRequest = '';

test('every response carries a request id of the server’s own, whatever the client sent', async () => {
  const response = await fetch(`${portal.url}/login`, { headers: { 'x-request-id': 'forged-request-id' } });
  const id = response.headers.get('x-request-id');
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const again = await fetch(`${portal.url}/login`);
  expect(again.headers.get('x-request-id')).not.toBe(id);
});

test('Gina’s unreadable device is logged as an error of her request, and refused', async ({ page }) => {
  await signIn(page, portal.url, 'gina', password);
  await expect(page.getByLabel('Verification code')).toBeVisible();
  await rememberCookies(page, 'Gina (pending)');
  const code = codeAt(ginaSecret, currentStep());
  secrets.set('Gina’s code', code);
  ginaRequest = await submitCode(page, code);
  await expect(pageAlert(page)).toHaveText(/That code didn’t work/);
});

test('the log is JSON lines, request-scoped ones carry the request id, and no credential is in it', async () => {
  // Lines are written synchronously, but give the server a moment to finish the last response.
  await expect.poll(() => serverLines().some((l) => l.reqId === ginaRequest)).toBe(true);
  const lines = serverLines();

  const unreadable = lines.filter((l) => l.msg === 'TOTP factor cannot be opened');
  expect(unreadable.length).toBeGreaterThan(0);
  for (const line of unreadable) {
    expect(line).toMatchObject({ level: 50, reqId: ginaRequest, factorId: 'factor-gina' });
  }
  // Start-up lines belong to no request.
  const listening = lines.find((l) => l.msg.startsWith('Portcullis listening on'));
  expect(listening).toBeDefined();
  expect(listening!.reqId).toBeUndefined();

  // Every line with an id has one the server gave out: a UUID, never a client’s.
  for (const line of lines) if (line.reqId !== undefined) expect(line.reqId).toMatch(/^[0-9a-f-]{36}$/);

  const text = fs.readFileSync(portal.logFile, 'utf8');
  expect(secrets.size).toBeGreaterThanOrEqual(20);
  for (const [what, value] of secrets) {
    expect(text.includes(value), `${what} appears in the server log`).toBe(false);
  }
});

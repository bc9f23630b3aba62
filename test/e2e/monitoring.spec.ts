import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { base32Encode } from '../../lib/factors/totp';
import { expectPortal, signIn } from './support/pages';
import { insertEnrolledTotp, seedUsers, withDb } from './support/seed';
import { startPortal, type Portal } from './support/server';
import { codeAt, currentStep } from './support/totp-codes';

/*
 * What an operator's probes and Prometheus see of the production build under `npm start`
 * (README, "Monitoring"). Persona: Adalind, who signs in with a password and her
 * authenticator app; her name and address must not show up in the scrape.
 */
const token = randomBytes(24).toString('hex');
const password = 'correct horse battery';
const username = 'adalind7q';
const secret = base32Encode(randomBytes(20));
let portal: Portal;

test.beforeAll(async () => {
  portal = await startPortal({ env: { PORTCULLIS_METRICS_TOKEN: token } });
  const ids = await seedUsers(portal.databaseUrl, [{ username, password, state: 'active' }]);
  await withDb(portal.databaseUrl, (db) => insertEnrolledTotp(db.kysely, { userId: ids[username]!, secret, portalSecret: portal.secret }));
});

test.afterAll(async () => {
  await portal?.stop();
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${portal.url}${path}`, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
};
const scrape = async () => {
  const got = await get('/metrics', { authorization: `Bearer ${token}` });
  expect(got.status).toBe(200);
  return got.text;
};
/** One series' value in a scrape; 0 when absent (a counter not yet moved). */
const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
};

test('health, readiness and a scrape that moves with a sign-in and a TOTP verification, naming nobody', async ({ page }) => {
  const health = await get('/healthz');
  expect(health.status).toBe(200);
  expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
  expect(health.headers.get('cache-control')).toBe('no-store');
  const ready = await get('/readyz');
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.text)).toEqual({ status: 'ok' });

  const anonymous = await get('/metrics');
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
  expect(anonymous.text).not.toContain('portcullis_');
  expect((await get('/metrics', { authorization: `Bearer ${token.slice(0, -1)}0` })).status).toBe(401);

  const before = await scrape();
  await signIn(page, portal.url, username, password);
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByLabel('Verification code').fill(codeAt(secret, currentStep()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expectPortal(page, username);

  const after = await scrape();
  const moved = (series: string) => value(after, series) - value(before, series);
  expect(moved('portcullis_sign_ins_total{outcome="ok"}')).toBe(1);
  expect(moved('portcullis_second_factor_verifications_total{method="totp",outcome="ok"}')).toBe(1);
  // /portal before signing in (login), after the password (challenge), after the code (allow).
  expect(moved('portcullis_gate_decisions_total{kind="login",resource="portal"}')).toBeGreaterThanOrEqual(1);
  expect(moved('portcullis_gate_decisions_total{kind="challenge",resource="portal"}')).toBeGreaterThanOrEqual(1);
  expect(moved('portcullis_gate_decisions_total{kind="allow",resource="portal"}')).toBeGreaterThanOrEqual(1);
  expect(moved('portcullis_http_request_duration_seconds_count{route="mfa",status_class="2xx"}')).toBeGreaterThanOrEqual(1);
  expect(after).toContain('# TYPE process_cpu_seconds_total counter');

  // Nobody is named: not Adalind, not her address, not her session or user id.
  expect(after).not.toContain(username);
  expect(after).not.toContain('127.0.0.1');
  const ids = await withDb(portal.databaseUrl, async (db) => [
    ...(await db.kysely.selectFrom('users').select('id').execute()).map((r) => r.id),
    ...(await db.kysely.selectFrom('sessions').select('id').execute()).map((r) => r.id),
  ]);
  for (const id of ids) expect(after).not.toContain(id);
});

import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { authenticator } from 'otplib';
import { cliActor } from '../../lib/admin/actor';
import { requireMfaForUsers } from '../../lib/admin/mfa-requirements';
import { saveMfaSettings } from '../../lib/admin/mfa-settings';
import { systemClock } from '../../lib/clock';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';

/*
 * A Content-Security-Policy with per-request nonces on every page, HSTS on
 * an https origin, and not one CSP violation across a full walk. Persona: Ada, an admin
 * who must set up MFA: she signs in, sets up TOTP from its QR code, adds a passkey with
 * Chromium's virtual authenticator, signs in again with it, and opens the admin console.
 * The portal runs on http://localhost (a secure context with a valid WebAuthn RP ID).
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
  const ids = await seedUsers(portal.databaseUrl, [{ username: 'ada', password, state: 'active', role: 'admin' }]);
  await withDb(portal.databaseUrl, async (db) => {
    await saveMfaSettings(db.kysely, { totp: true, webauthn: true, duo: false }, cliActor, systemClock, { sealSecret: () => { throw new Error('no Duo here'); } });
    await requireMfaForUsers(db.kysely, { userIds: [ids.ada!], enrollmentDays: 7 }, cliActor, systemClock);
  });
});

test.afterAll(async () => {
  await portal?.stop();
});

function directives(policy: string | undefined): Map<string, string[]> {
  expect(policy, 'Content-Security-Policy header').toBeTruthy();
  return new Map(policy!.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}

function expectStrictPolicy(policy: string | undefined, where: string) {
  const d = directives(policy);
  const scripts = d.get('script-src') ?? [];
  expect(scripts, where).toContain("'strict-dynamic'");
  expect(scripts.some((s) => /^'nonce-[A-Za-z0-9+/]+={0,2}'$/.test(s)), where).toBe(true);
  expect(scripts, where).not.toContain("'unsafe-inline'");
  expect(d.get('frame-ancestors'), where).toEqual(["'none'"]);
  expect(d.get('base-uri'), where).toEqual(["'none'"]);
  expect(d.get('object-src'), where).toEqual(["'none'"]);
  expect(d.get('form-action')?.[0], where).toBe("'self'");
}

/** Every CSP complaint the browser makes, from the console and from securitypolicyviolation events. */
async function watchViolations(context: BrowserContext): Promise<string[]> {
  const violations: string[] = [];
  await context.exposeBinding('__cspViolation', (_source, text: string) => {
    violations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __cspViolation(t: string): void }).__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI} on ${e.documentURI}`);
    });
  });
  context.on('console', (message) => {
    const text = message.text();
    if (/Refused to|Content Security Policy/i.test(text)) violations.push(`console: ${text}`);
  });
  return violations;
}

test('every page answer carries the policy and the other security headers', async ({ playwright }) => {
  const request = await playwright.request.newContext({ baseURL: base });
  for (const path of ['/login', '/portal', '/admin', '/mfa/verify', '/mfa/setup', '/mfa/setup/totp', '/mfa/setup/webauthn', '/mfa/locked', '/mfa/recovery-codes']) {
    const response = await request.get(path, { maxRedirects: 0 });
    const headers = response.headers();
    expectStrictPolicy(headers['content-security-policy'], `${path} (${response.status()})`);
    expect(headers['x-frame-options'], path).toBe('DENY');
    expect(headers['x-content-type-options'], path).toBe('nosniff');
    // An http origin gets no HSTS.
    expect(headers['strict-transport-security'], path).toBeUndefined();
  }
  // Two requests, two nonces.
  const [a, b] = await Promise.all([request.get('/login'), request.get('/login')]);
  expect(a.headers()['content-security-policy']).not.toBe(b.headers()['content-security-policy']);
  // The sign-in POST is served outside Next.js; its answer has a (script-free) policy too.
  const post = await request.post('/login/submit', { headers: { Origin: base }, form: { username: 'nobody', password: 'x', returnTo: '/portal' }, maxRedirects: 0 });
  expect(directives(post.headers()['content-security-policy']).get('frame-ancestors')).toEqual(["'none'"]);
  await request.dispose();
});

test('public/ is served as is, past the gate: robots.txt disallows everything, and the favicon the pages link', async ({ playwright }) => {
  const request = await playwright.request.newContext({ baseURL: base });
  const robots = await request.get('/robots.txt', { maxRedirects: 0 });
  expect(robots.status()).toBe(200);
  expect(robots.headers()['content-type']).toMatch(/^text\/plain/);
  expect(await robots.text()).toBe('User-agent: *\nDisallow: /\n');
  for (const [path, type] of [['/favicon.svg', /^image\/svg\+xml/], ['/favicon.ico', /^image\/(x-icon|vnd\.microsoft\.icon)/]] as const) {
    const response = await request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(200);
    expect(response.headers()['content-type'], path).toMatch(type);
  }
  for (const path of ['/robots.txt', '/favicon.svg', '/favicon.ico']) {
    const headers = (await request.get(path)).headers();
    // The matcher leaves these to Next alone: no gate, so no per-request nonce policy.
    expect(headers['content-security-policy'], path).toBeUndefined();
    expect(headers['x-content-type-options'], path).toBe('nosniff');
  }
  // A path only near a public file still goes through the gate.
  expectStrictPolicy((await request.get('/robots.txt/x', { maxRedirects: 0 })).headers()['content-security-policy'], '/robots.txt/x');
  const login = await (await request.get('/login')).text();
  expect(login).toMatch(/<link rel="icon" href="\/favicon\.svg" type="image\/svg\+xml"/);
  await request.dispose();
});

test('Ada walks through sign-in, TOTP setup with its QR code, a passkey, verify and the admin console without one CSP violation', async ({ browser }) => {
  const context = await browser.newContext();
  const violations = await watchViolations(context);
  const page = await context.newPage();
  const documents: Array<{ url: string; policy: string | undefined }> = [];
  page.on('response', (response) => {
    if (response.request().resourceType() === 'document' && response.status() === 200) {
      documents.push({ url: response.url(), policy: response.headers()['content-security-policy'] });
    }
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  // Sign-in, then Set Up: TOTP from its QR code.
  await signIn(page, base, 'ada', password, '/portal');
  await expect(page.getByRole('heading', { name: 'Set Up Multi-Factor Authentication' })).toBeVisible();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(/\/mfa\/setup\/totp\?/);
  const qr = page.getByRole('img', { name: 'QR code' });
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('Verification code').fill(authenticator.clone({ epoch: Math.floor(Date.now() / stepMs) * stepMs }).generate(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery codes' })).toBeVisible();
  await page.getByRole('button', { name: /I saved my recovery codes/ }).click();
  await expectPortal(page, 'ada');

  // Next.js's own scripts carry this response's nonce (and so they ran: the page hydrated).
  // Read on a document load of its own: after a client-side navigation Next.js appends the
  // new page's chunks with the nonce of that navigation's response, which 'strict-dynamic'
  // lets run (the violation watch above and below sees every page of the walk).
  await page.reload();
  await expectPortal(page, 'ada');
  const scriptNonces = await page.evaluate(() => Array.from(document.scripts, (s) => s.nonce));
  expect(scriptNonces.length).toBeGreaterThan(0);
  expect(new Set(scriptNonces).size).toBe(1);
  expect(scriptNonces[0]).not.toBe('');

  // WebAuthn setup: a client-side ceremony, so scripts and fetches must be allowed.
  await page.goto(`${base}/portal/security`);
  await page.getByRole('button', { name: 'Add a security key' }).click();
  await expect(page.getByRole('heading', { name: 'Register a security key or passkey' })).toBeVisible();
  await page.getByLabel('Key name').fill('Laptop passkey');
  await page.getByRole('button', { name: 'Register security key' }).click();
  await expect(page).toHaveURL(/\/portal\/security/);
  await expect(page.getByTestId('factor-row').filter({ hasText: 'Laptop passkey' })).toHaveCount(1);

  // Verify: a fresh sign-in, the second factor with the key.
  await context.clearCookies();
  await signIn(page, base, 'ada', password, '/admin');
  await expect(page).toHaveURL(/\/mfa\/verify\?/);
  await page.getByRole('button', { name: 'Use security key' }).click();

  // The admin console.
  await expect(page).toHaveURL(new RegExp(`${base}/admin`));
  await page.goto(`${base}/admin/users`);
  await expect(page.getByRole('columnheader', { name: 'MFA' })).toBeVisible();
  await page.goto(`${base}/admin/settings`);
  await page.waitForLoadState('networkidle');

  expect(violations).toEqual([]);
  expect(documents.length).toBeGreaterThan(5);
  for (const doc of documents) expectStrictPolicy(doc.policy, doc.url);

  // The watch works: an injected inline handler is refused, and reported. A click, not an
  // image's onload: Chromium checks a handler attribute when its event fires, and whether an
  // injected image ever fires "load" is up to the browser (a flaky watch once, in CI).
  await page.evaluate(() => {
    document.body.insertAdjacentHTML('beforeend', '<button id="injected" onclick="window.__pwned = 1">x</button>');
    document.getElementById('injected')!.click();
  });
  await expect.poll(() => violations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  await context.close();
});

test('HSTS when PORTCULLIS_ORIGIN is https', async ({ playwright }) => {
  const https = await startPortal({ env: { PORTCULLIS_ORIGIN: 'https://portal.example' } });
  try {
    const request = await playwright.request.newContext({ baseURL: https.url });
    for (const path of ['/login', '/portal']) {
      const response = await request.get(path, { maxRedirects: 0 });
      expect(response.headers()['strict-transport-security'], path).toBe('max-age=31536000; includeSubDomains');
    }
    await request.dispose();
  } finally {
    await https.stop();
  }
});

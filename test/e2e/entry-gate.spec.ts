import { expect, test, type APIRequestContext } from '@playwright/test';
import { cliActor } from '../../lib/admin/actor';
import { createPolicy } from '../../lib/admin/policies';
import { systemClock } from '../../lib/clock';
import { freePort } from '../support/local-processes';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { expectPortal, signIn } from './support/pages';

/*
 * Under `npm start` the entry server (scripts/server.mjs) decides the portal's own paths
 * ahead of Next.js (lib/gate/entry-gate.ts), and the middleware does not run for a request
 * it allowed. Personas: Ada, active, nothing required of her; Bob, not signed in; Mallory,
 * who sends the entry's "decided" marker header herself.
 */
const password = 'correct horse battery';
const marker = { 'x-portcullis-gate-decided': '1' };
const protectedPaths = ['/portal', '/portal/security', '/admin', '/apps/demo', '/apps/demo/api/whoami', '/PORTAL', '/%70ortal', '/x/../admin'];

function nonceOf(policy: string | undefined): string {
  const match = /'nonce-([A-Za-z0-9+/]+={0,2})'/.exec(policy ?? '');
  expect(match, `a nonce in ${policy}`).toBeTruthy();
  return match![1]!;
}

async function get(request: APIRequestContext, url: string, headers: Record<string, string> = {}) {
  return request.get(url, { headers, maxRedirects: 0 });
}

test.describe('under npm start', () => {
  test.describe.configure({ mode: 'serial' });
  let portal: Portal;

  test.beforeAll(async () => {
    portal = await startPortal();
    await seedUsers(portal.databaseUrl, [{ username: 'ada', password, state: 'active' }]);
  });

  test.afterAll(async () => {
    await portal?.stop();
  });

  test('Bob, not signed in, is sent to sign in from every protected path, with the policy and security headers on the answer', async ({ request }) => {
    for (const path of protectedPaths) {
      const response = await get(request, `${portal.url}${path}`);
      expect(response.status(), path).toBe(303);
      expect(response.headers().location, path).toMatch(/^\/login\?returnTo=%2F/);
      nonceOf(response.headers()['content-security-policy']);
      expect(response.headers()['x-frame-options'], path).toBe('DENY');
      expect(response.headers()['x-request-id'], path).toBeTruthy();
    }
    expect((await get(request, `${portal.url}/portal/security?tab=2`)).headers().location).toBe(`/login?returnTo=${encodeURIComponent('/portal/security?tab=2')}`);
  });

  test('Mallory sending the "decided" marker herself skips nothing: she is sent to sign in all the same', async ({ request }) => {
    for (const path of protectedPaths) {
      const response = await get(request, `${portal.url}${path}`, { ...marker, 'x-nonce': 'AAAAAAAAAAAAAAAAAAAAAA==', 'content-security-policy': "script-src 'unsafe-inline'" });
      expect(response.status(), path).toBe(303);
      expect(response.headers().location, path).toMatch(/^\/login\?returnTo=/);
      expect(response.headers()['content-security-policy'], path).not.toContain('AAAAAAAAAAAAAAAAAAAAAA==');
    }
  });

  test("Ada, signed in, gets the portal with a policy whose nonce is the one on Next.js's scripts", async ({ page }) => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Refused to|Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await signIn(page, portal.url, 'ada', password);
    await expectPortal(page, 'ada');
    const response = await page.goto(`${portal.url}/portal`);
    expect(response!.status()).toBe(200);
    const nonce = nonceOf(response!.headers()['content-security-policy']);
    await expectPortal(page, 'ada');
    const scriptNonces = await page.evaluate(() => Array.from(document.scripts, (s) => s.nonce));
    expect(scriptNonces.length).toBeGreaterThan(0);
    expect(new Set(scriptNonces)).toEqual(new Set([nonce]));

    // The same in the HTML as sent, and even when Ada's own request carries the marker.
    const raw = await page.request.get(`${portal.url}/portal`, { headers: marker });
    const rawNonce = nonceOf(raw.headers()['content-security-policy']);
    const html = await raw.text();
    const inHtml = [...html.matchAll(/<script[^>]*\snonce="([^"]+)"/g)].map((m) => m[1]);
    expect(inHtml.length).toBeGreaterThan(0);
    expect(new Set(inHtml)).toEqual(new Set([rawNonce]));
    expect(rawNonce).not.toBe(nonce);
    expect(violations).toEqual([]);
  });

  test('a deny policy on the demo app sends Ada to the denied page, answered by the entry', async ({ page }) => {
    await withDb(portal.databaseUrl, (db) =>
      createPolicy(
        db.kysely,
        { name: 'Demo closed', enabled: true, scope: 'all', includeGroupIds: [], excludeGroupIds: [], conditions: {}, resources: ['demo'], action: 'deny', priority: 0 },
        cliActor,
        systemClock,
      ),
    );
    await signIn(page, portal.url, 'ada', password);
    await expectPortal(page, 'ada');
    const response = await page.request.get(`${portal.url}/apps/demo`, { maxRedirects: 0 });
    expect(response.status()).toBe(303);
    expect(response.headers().location).toBe('/denied');
    nonceOf(response.headers()['content-security-policy']);
    await page.goto(`${portal.url}/apps/demo`);
    await expect(page).toHaveURL(/\/denied$/);
    // The portal itself stays open to her.
    expect((await page.request.get(`${portal.url}/portal`, { maxRedirects: 0 })).status()).toBe(200);
  });

  test('pages the entry leaves to Next.js keep the middleware: a fresh nonce policy on each', async ({ request }) => {
    for (const path of ['/login', '/mfa/verify', '/mfa/setup', '/denied']) {
      const first = await get(request, `${portal.url}${path}`);
      const second = await get(request, `${portal.url}${path}`, marker);
      expect(nonceOf(first.headers()['content-security-policy']), path).not.toBe(nonceOf(second.headers()['content-security-policy']));
    }
  });
});

test.describe('under npm start, the data layer down', () => {
  let portal: Portal;

  test.beforeAll(async () => {
    const closedPort = await freePort(); // nothing listens there
    portal = await startPortal({
      env: { DATABASE_URL: `postgres://portcullis@127.0.0.1:${closedPort}/portcullis`, PORTCULLIS_SECRET: 'a-test-secret-that-is-long-enough-0123456789' },
    });
  });

  test.afterAll(async () => {
    await portal?.stop();
  });

  test('R-D10: protected paths answer the plain 503 from the entry, with the policy; the /mfa pages still get the middleware\'s probe', async ({ request }) => {
    for (const path of ['/portal', '/admin', '/apps/demo']) {
      for (const headers of [{}, marker]) {
        const response = await get(request, `${portal.url}${path}`, headers);
        expect(response.status(), path).toBe(503);
        expect(response.headers()['retry-after'], path).toBe('30');
        nonceOf(response.headers()['content-security-policy']);
        expect(await response.text(), path).toContain('Temporarily unavailable');
      }
    }
    const mfa = await get(request, `${portal.url}/mfa/verify`);
    expect(mfa.status()).toBe(503);
    nonceOf(mfa.headers()['content-security-policy']);
  });
});

test.describe('under plain next start (no entry server)', () => {
  let portal: Portal;

  test.beforeAll(async () => {
    portal = await startPortal({ nextStart: true });
  });

  test.afterAll(async () => {
    await portal?.stop();
  });

  test("R-D9: Mallory's own marker skips only the middleware; the page's own check still sends her to sign in", async ({ request }) => {
    // Without the marker the middleware answers (its 303).
    const gated = await get(request, `${portal.url}/portal`);
    expect(gated.status()).toBe(303);
    expect(gated.headers().location).toBe('/login?returnTo=%2Fportal');
    for (const path of ['/portal', '/admin', '/apps/demo']) {
      const response = await get(request, `${portal.url}${path}`, marker);
      // The page's requirePageAccess answers instead (Next.js's redirect() is a 307), never the page.
      expect(response.status(), path).toBe(307);
      expect(response.headers().location, path).toMatch(/^\/login\?returnTo=%2F/);
      expect(await response.text(), path).not.toContain('signed-in-user');
    }
    const api = await get(request, `${portal.url}/apps/demo/api/whoami`, marker);
    expect(api.status()).toBeGreaterThanOrEqual(300);
    expect(api.status()).not.toBe(200);
  });
});

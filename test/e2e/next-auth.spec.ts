import { expect, test, type APIRequestContext } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';

/*
 * next-auth's endpoints were a second door that behaved differently. Now
 * only sign-out (ours) and two redirects to /login answer there; the rest is 404. Persona:
 * Nina, signed in with her password only (no second factor yet).
 */
const password = 'correct horse battery';
let portal: Portal;
let ninaId: string;

test.beforeAll(async () => {
  portal = await startPortal();
  ninaId = (await seedUsers(portal.databaseUrl, [{ username: 'nina', password, state: 'active', email: 'nina@example.com', displayName: 'Nina Nakamura' }])).nina!;
});

test.afterAll(async () => {
  await portal?.stop();
});

async function signedIn(playwright: { request: { newContext(o: object): Promise<APIRequestContext> } }) {
  const request = await playwright.request.newContext({ baseURL: portal.url });
  const response = await request.post('/login/submit', { headers: { Origin: portal.url }, form: { username: 'nina', password, returnTo: '/portal' }, maxRedirects: 0 });
  expect(response.status()).toBe(303);
  const cookie = response.headers()['set-cookie']!.split(';')[0]!;
  return { request, cookie };
}

const liveSessions = () => withDb(portal.databaseUrl, (db) => db.kysely.selectFrom('sessions').select('id').where('user_id', '=', ninaId).execute());

test('POST /api/auth/signout ends the session row, not just the cookie', async ({ playwright }) => {
  await withDb(portal.databaseUrl, (db) => db.kysely.deleteFrom('sessions').where('user_id', '=', ninaId).execute());
  const { request, cookie } = await signedIn(playwright);
  expect(await liveSessions()).toHaveLength(1);

  // A cross-site form can't sign her out.
  const forged = await request.post('/api/auth/signout', { headers: { Origin: 'http://evil.example' }, maxRedirects: 0 });
  expect(forged.status()).toBe(403);
  expect(await liveSessions()).toHaveLength(1);

  const response = await request.post('/api/auth/signout', { headers: { Origin: portal.url }, maxRedirects: 0 });
  expect(response.status()).toBe(303);
  expect(response.headers().location).toBe(`${portal.url}/login`);
  expect(response.headers()['set-cookie']).toMatch(/Max-Age=0/);
  expect(await liveSessions()).toHaveLength(0);

  // A copy of the old cookie is worthless.
  const replay = await playwright.request.newContext({ baseURL: portal.url, extraHTTPHeaders: { cookie } });
  const portalPage = await replay.get('/portal', { maxRedirects: 0 });
  expect(portalPage.status()).toBe(303);
  expect(portalPage.headers().location).toMatch(/\/login\?/);
  await replay.dispose();
  await request.dispose();
});

test('/api/auth/callback/credentials is no second sign-in', async ({ playwright }) => {
  const request = await playwright.request.newContext({ baseURL: portal.url });
  const response = await request.post('/api/auth/callback/credentials', {
    headers: { Origin: portal.url },
    form: { username: 'nina', password, csrfToken: 'x', json: 'true' },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(404);
  expect(response.headers()['set-cookie']).toBeUndefined();
  await request.dispose();
});

test('/api/auth/session shows nothing of a password-only session', async ({ playwright }) => {
  const { request } = await signedIn(playwright);
  const response = await request.get('/api/auth/session', { maxRedirects: 0 });
  expect(response.status()).toBe(404);
  const body = await response.text();
  expect(body).not.toContain('nina');
  expect(body).not.toContain('Nina');
  await request.dispose();
});

test('/api/auth/signin and /api/auth/error send people to our sign-in page, on PORTCULLIS_ORIGIN', async ({ playwright }) => {
  const request = await playwright.request.newContext({ baseURL: portal.url });
  for (const path of ['/api/auth/signin', '/api/auth/signin/credentials', '/api/auth/error?error=Configuration']) {
    const response = await request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(path.startsWith('/api/auth/signin/') ? 404 : 303);
    if (response.status() === 303) expect(response.headers().location, path).toBe(`${portal.url}/login`);
    expect(await response.text(), path).not.toContain('localhost:3000');
  }
  await request.dispose();
});

test('GET /api/auth/signout is our sign-out page, which asks first: a link alone signs nobody out', async ({ playwright }) => {
  const { request } = await signedIn(playwright);
  const response = await request.get('/api/auth/signout', { maxRedirects: 0 });
  expect(response.status()).toBe(303);
  expect(response.headers().location).toBe(`${portal.url}/signout`);
  expect(response.headers()['set-cookie']).toBeUndefined();
  expect(await liveSessions()).not.toHaveLength(0);
  await request.dispose();
});

test('/api/auth/csrf, /api/auth/providers and the rest are not found', async ({ playwright }) => {
  const { request } = await signedIn(playwright);
  for (const [method, path] of [
    ['GET', '/api/auth/csrf'],
    ['GET', '/api/auth/providers'],
    ['GET', '/api/auth/callback/credentials'],
    ['POST', '/api/auth/signin/credentials'],
    ['POST', '/api/auth/session'],
    ['POST', '/api/auth/_log'],
  ] as const) {
    const response = await request.fetch(path, { method, headers: { Origin: portal.url }, maxRedirects: 0 });
    expect(response.status(), `${method} ${path}`).toBe(404);
    const body = await response.text();
    expect(body, path).not.toContain('localhost:3000');
    expect(body, path).not.toContain('csrfToken');
  }
  await request.dispose();
});

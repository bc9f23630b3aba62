import { expect, test } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers } from './support/seed';
import { expectPortal } from './support/pages';

/*
 * R-D12: return targets are checked after normalisation. Persona: Olga,
 * signed in with a password, nothing requires MFA of her, so every /mfa page sends her
 * straight on to her return target: the place an open redirect would show.
 */
const password = 'correct horse battery';
let portal: Portal;

test.beforeAll(async () => {
  portal = await startPortal();
  await seedUsers(portal.databaseUrl, [{ username: 'olga', password, state: 'active' }]);
});

test.afterAll(async () => {
  await portal?.stop();
});

const encoded = '%2F.%2F%2Fevil.example';

test('signed in, /mfa/verify, /mfa/setup and /mfa/setup/webauthn never redirect off the portal', async ({ playwright }) => {
  const request = await playwright.request.newContext({ baseURL: portal.url });
  const signedIn = await request.post('/login/submit', {
    headers: { Origin: portal.url },
    form: { username: 'olga', password, returnTo: '/portal' },
    maxRedirects: 0,
  });
  expect(signedIn.status()).toBe(303);
  for (const path of ['/mfa/verify', '/mfa/setup', '/mfa/setup/webauthn']) {
    for (const target of [encoded, '%2Fx%2F..%2F%2Fevil.example', '%2F%252e%2F%2Fevil.example', '%2Fportal%2F..%2F%2Fevil.example']) {
      const response = await request.get(`${path}?returnTo=${target}`, { maxRedirects: 0 });
      const location = response.headers().location ?? '';
      expect(response.status(), `${path} ${target}`).toBe(307);
      expect(location, `${path} ${target}`).not.toMatch(/^\/\/|^\/\\|evil\.example/);
      expect(new URL(location, portal.url).origin).toBe(portal.url);
    }
  }
  await request.dispose();
});

test('signed out, the /login chain ends on the portal, not on evil.example', async ({ page }) => {
  const offsite: string[] = [];
  await page.route((url) => url.hostname === 'evil.example', (route) => {
    offsite.push(route.request().url());
    return route.fulfill({ status: 200, body: 'evil' });
  });
  await page.goto(`${portal.url}/login?returnTo=%2Fmfa%2Fverify%3FreturnTo%3D${encodeURIComponent(encoded)}`);
  await page.getByLabel('Username').fill('olga');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expectPortal(page, 'olga');
  expect(new URL(page.url()).origin).toBe(portal.url);
  expect(offsite).toEqual([]);
});

import { expect, test } from '@playwright/test';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { cliActor } from '../../lib/admin/actor';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { systemClock } from '../../lib/clock';

/*
 * The forward-auth endpoints as `npm start` serves them (the entry server's direct routes),
 * asked the way Traefik/Caddy and nginx ask: plain HTTP, no browser. Personas:
 * - Bob without MFA, in Editors and "Finance, EMEA": signs in with his password and is let through to the wiki.
 * - Mallory: talks to a portal that trusts no proxy, sending the proxy's headers herself.
 */
const password = 'correct horse battery';
const resources = 'app.example.test/=wiki';
let portal: Portal;
let untrusting: Portal;

test.beforeAll(async () => {
  portal = await startPortal({ env: { PORTCULLIS_RESOURCES: resources, PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1' } });
  const ids = await seedUsers(portal.databaseUrl, [{ username: 'bob', password, state: 'active', displayName: 'Bob Müller' }]);
  // Bob's groups reach the app as Remote-Groups: the group-names query, on each database.
  await withDb(portal.databaseUrl, async (db) => {
    const editors = await createGroup(db.kysely, { name: 'Editors' }, cliActor, systemClock);
    const finance = await createGroup(db.kysely, { name: 'Finance, EMEA' }, cliActor, systemClock);
    await setGroupMembers(db.kysely, editors.id, { userIds: [ids.bob!] }, cliActor, systemClock);
    await setGroupMembers(db.kysely, finance.id, { userIds: [ids.bob!] }, cliActor, systemClock);
  });
  untrusting = await startPortal({ env: { PORTCULLIS_RESOURCES: resources }, sameDatabaseAs: portal });
});

test.afterAll(async () => {
  await untrusting?.stop();
  await portal?.stop();
});

/** Bob's session cookie (`name=value`), from the sign-in form's post. */
async function signInAsBob(): Promise<string> {
  const response = await fetch(`${portal.url}/login/submit`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: portal.url },
    body: new URLSearchParams({ username: 'bob', password, returnTo: '/portal' }),
  });
  expect(response.status).toBe(303);
  const cookie = response.headers.getSetCookie().find((c) => c.includes('portcullis.session='));
  expect(cookie).toBeTruthy();
  return cookie!.split(';', 1)[0]!;
}

const traefikHeaders = { 'x-forwarded-method': 'GET', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.test', 'x-forwarded-uri': '/pages/home?x=1' };

test('under npm start, forward-auth sends a stranger to sign in and lets Bob through with his Remote-* headers', async () => {
  const stranger = await fetch(`${portal.url}/api/authz/forward-auth`, { redirect: 'manual', headers: traefikHeaders });
  expect(stranger.status).toBe(302);
  expect(stranger.headers.get('location')).toBe(`${portal.url}/login?returnTo=${encodeURIComponent('https://app.example.test/pages/home?x=1')}`);
  expect(stranger.headers.get('cache-control')).toBe('no-store');

  const cookie = await signInAsBob();
  const bob = await fetch(`${portal.url}/api/authz/forward-auth`, { redirect: 'manual', headers: { ...traefikHeaders, cookie } });
  expect(bob.status).toBe(200);
  expect(bob.headers.get('remote-user')).toBe('bob');
  expect(Buffer.from(bob.headers.get('remote-name')!, 'latin1').toString('utf8')).toBe('Bob Müller');
  expect(bob.headers.get('remote-methods')).toBe('pwd');
  expect(bob.headers.get('remote-groups')).toBe('Editors,Finance%2C EMEA');

  const posted = await fetch(`${portal.url}/api/authz/forward-auth`, { method: 'POST', redirect: 'manual', headers: { ...traefikHeaders, 'x-forwarded-method': 'POST' } });
  expect(posted.status).toBe(303);
});

test('under npm start, auth-request answers 200 for Bob, 401 for a stranger and 403 for an undeclared host', async () => {
  const cookie = await signInAsBob();
  const ask = (url: string, extra: Record<string, string> = {}) =>
    fetch(`${portal.url}/api/authz/auth-request`, { redirect: 'manual', headers: { 'x-original-url': url, 'x-original-method': 'GET', ...extra } });
  expect((await ask('https://app.example.test/x', { cookie })).status).toBe(200);
  const stranger = await ask('https://app.example.test/x');
  expect(stranger.status).toBe(401);
  expect(stranger.headers.get('location')).toContain('/login?returnTo=');
  const undeclared = await ask('https://intranet.example.test/', { cookie });
  expect(undeclared.status).toBe(403);
  expect(undeclared.headers.get('location')).toBe(`${portal.url}/denied`);
  expect((await ask('https://app.example.test/x', { cookie, 'x-original-method': '' })).status).toBe(400);
});

test('from a peer the portal does not trust, the original-request headers are ignored: 400, never 200', async () => {
  const cookie = await signInAsBob();
  const forward = await fetch(`${untrusting.url}/api/authz/forward-auth`, { redirect: 'manual', headers: { ...traefikHeaders, cookie } });
  expect(forward.status).toBe(400);
  expect(await forward.text()).toMatch(/^Missing X-Forwarded-/);
  const nginx = await fetch(`${untrusting.url}/api/authz/auth-request`, {
    redirect: 'manual',
    headers: { 'x-original-url': 'https://app.example.test/', 'x-original-method': 'GET', cookie },
  });
  expect(nginx.status).toBe(400);
  expect(nginx.headers.get('remote-user')).toBeNull();
});

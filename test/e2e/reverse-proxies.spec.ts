import { expect, test, type Page } from '@playwright/test';
import { exampleHostsLaunchOptions } from './support/example-hosts';
import { cliActor } from '../../lib/admin/actor';
import { createGroup, setGroupMembers } from '../../lib/admin/groups';
import { createPolicy } from '../../lib/admin/policies';
import { systemClock } from '../../lib/clock';
import { request, startCaddy, startNginx, startUpstream, type ProxyOptions, type RunningProxy, type Upstream } from './support/proxies';
import { startPortal, type Portal } from './support/server';
import { seedUsers, withDb } from './support/seed';
import { codeAt, currentStep } from './support/totp-codes';

/*
 * Portcullis in front of an app of another stack, behind the real reverse proxies from Debian,
 * each started from the config snippet the product ships (docs/proxies/nginx.conf with
 * auth_request, docs/proxies/Caddyfile with forward_auth). The browser maps *.example.test to
 * 127.0.0.1, so the portal (portal.example.test) and the apps (nginx-app.example.test,
 * caddy-app.example.test) share the session cookie on example.test. Personas:
 * - Ada (behind nginx) and Cleo (behind Caddy): Editors, whom a require-MFA policy on the wiki
 *   sends to enroll on their first visit.
 * - Dora: a contractor, denied the wiki by policy.
 * - Sam: a reader with no second factor required, whose requests Mallory's headers ride along,
 *   and who is turned away by both proxies while Portcullis is down (fail closed).
 */
test.use({ launchOptions: exampleHostsLaunchOptions });

const password = 'correct horse battery';
const proxies: { kind: RunningProxy['kind']; appHost: string; start: (o: ProxyOptions) => Promise<RunningProxy>; editor: string }[] = [
  { kind: 'nginx', appHost: 'nginx-app.example.test', start: startNginx, editor: 'ada' },
  { kind: 'caddy', appHost: 'caddy-app.example.test', start: startCaddy, editor: 'cleo' },
];

let portal: Portal;
let upstream: Upstream;
const running = new Map<string, RunningProxy>();

test.beforeAll(async () => {
  upstream = await startUpstream();
  portal = await startPortal({
    originHost: 'portal.example.test',
    env: {
      PORTCULLIS_COOKIE_DOMAIN: 'example.test',
      PORTCULLIS_RESOURCES: proxies.map((p) => `${p.appHost}/=wiki`).join(' '),
      PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1',
    },
  });
  const ids = await seedUsers(portal.databaseUrl, [
    { username: 'ada', password, email: 'ada@example.test', displayName: 'Ada Lovelace' },
    { username: 'cleo', password, email: 'cleo@example.test', displayName: 'Cleo Editor' },
    { username: 'dora', password },
    { username: 'sam', password },
  ]);
  await withDb(portal.databaseUrl, async (db) => {
    const k = db.kysely;
    const editors = await createGroup(k, { name: 'Editors' }, cliActor, systemClock);
    const contractors = await createGroup(k, { name: 'Contractors' }, cliActor, systemClock);
    const readers = await createGroup(k, { name: 'Readers' }, cliActor, systemClock);
    await setGroupMembers(k, editors.id, { userIds: [ids.ada!, ids.cleo!] }, cliActor, systemClock);
    await setGroupMembers(k, contractors.id, { userIds: [ids.dora!] }, cliActor, systemClock);
    await setGroupMembers(k, readers.id, { userIds: [ids.sam!] }, cliActor, systemClock);
    const policy = (name: string, group: string, action: 'require_mfa' | 'deny') =>
      createPolicy(
        k,
        { name, enabled: true, scope: 'groups', includeGroupIds: [group], excludeGroupIds: [], conditions: {}, resources: ['wiki'], action, priority: 0 },
        cliActor,
        systemClock,
      );
    await policy('Editors need MFA on the wiki', editors.id, 'require_mfa');
    await policy('No contractors on the wiki', contractors.id, 'deny');
  });
  const portcullis = `127.0.0.1:${portal.port}`;
  for (const p of proxies) running.set(p.kind, await p.start({ appHost: p.appHost, portcullis, upstream: upstream.hostPort }));
});

test.afterAll(async () => {
  for (const proxy of running.values()) await proxy.stop();
  await portal?.stop();
  await upstream?.stop();
});

/** The sign-in form the proxy sent the browser to, for the app URL it was asked for. */
async function signInAtPortal(page: Page, appUrl: string, username: string) {
  await expect(page).toHaveURL(`${portal.url}/login?returnTo=${encodeURIComponent(appUrl)}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const mallorysHeaders = { 'Remote-User': 'admin', 'Remote-Groups': 'Admins', 'Remote-Email': 'mallory@evil.example', 'Remote-Methods': 'pwd,totp,webauthn' };

for (const { kind, appHost, editor } of proxies) {
  test.describe(`behind ${kind} (${appHost})`, () => {
    const proxy = () => running.get(kind)!;

    test(`${editor}, an Editor, opens a deep wiki page, signs in, enrolls TOTP, and lands on that page; the app sees who she is`, async ({ page }) => {
      const appUrl = proxy().urlFor('/wiki/pages/release-notes?rev=2');
      const before = upstream.seen.length;
      await page.goto(appUrl);
      await signInAtPortal(page, appUrl, editor);

      await expect(page).toHaveURL(new RegExp(`^${portal.url.replace(/\./g, '\\.')}/mfa/setup\\?returnTo=`));
      await expect(page.getByRole('button', { name: 'Skip for now' })).toHaveCount(0);
      await page.getByRole('button', { name: 'Continue' }).click();
      const secret = (await page.getByTestId('totp-key').textContent())!.replace(/\s+/g, '');
      await page.getByLabel('Verification code').fill(codeAt(secret, currentStep()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: /I saved my recovery codes/ }).click();

      await expect(page).toHaveURL(appUrl);
      await expect(page.getByRole('heading', { name: 'Upstream app' })).toBeVisible();
      await expect(page.getByTestId('upstream-path')).toHaveText('/wiki/pages/release-notes?rev=2');
      await expect(page.getByTestId('remote-user')).toHaveText(editor);
      await expect(page.getByTestId('remote-groups')).toHaveText('Editors');
      await expect(page.getByTestId('remote-email')).toHaveText(`${editor}@example.test`);
      await expect(page.getByTestId('remote-methods')).toContainText('totp');
      // Nothing reached the app before she was through.
      expect(upstream.seen.slice(before).every((s) => s.headers['remote-user'] === editor)).toBe(true);
    });

    test('Dora, a contractor, signs in and is shown the portal\u2019s denied page, never the app', async ({ page }) => {
      const before = upstream.seen.length;
      const appUrl = proxy().urlFor('/wiki/');
      await page.goto(appUrl);
      await signInAtPortal(page, appUrl, 'dora');
      await expect(page).toHaveURL(`${portal.url}/denied`);
      await expect(page.getByRole('heading', { name: 'Access denied' })).toBeVisible();
      expect(upstream.seen.length).toBe(before);
    });

    test('a Remote-User header Mallory adds never reaches the app, signed in (Sam) or not', async ({ page }) => {
      // Not signed in: turned away at the proxy; the app never sees the request.
      const before = upstream.seen.length;
      const anonymous = await request(proxy().port, appHost, '/wiki/admin', mallorysHeaders);
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.location).toBe(`${portal.url}/login?returnTo=${encodeURIComponent(proxy().urlFor('/wiki/admin'))}`);
      expect(upstream.seen.length).toBe(before);

      // Sam's browser sends Mallory's headers with every request: the app sees Sam.
      await page.setExtraHTTPHeaders(mallorysHeaders);
      const appUrl = proxy().urlFor('/wiki/admin');
      await page.goto(appUrl);
      await signInAtPortal(page, appUrl, 'sam');
      await expect(page).toHaveURL(appUrl);
      await expect(page.getByTestId('remote-user')).toHaveText('sam');
      await expect(page.getByTestId('remote-groups')).toHaveText('Readers');
      // Sam has no email and passed no second factor: none of Mallory's values survive
      // (nginx drops an empty header, Caddy 2.6 passes it empty).
      await expect(page.getByTestId('remote-email')).toHaveText(/^(\(none\))?$/);
      await expect(page.getByTestId('remote-methods')).not.toContainText(/totp|webauthn/);
      // The page and whatever else the browser asked for (a favicon): each as Sam, none as Mallory's.
      const reached = upstream.seen.slice(before);
      expect(reached.filter((s) => s.path === '/wiki/admin')).toHaveLength(1);
      for (const s of reached) expect(s.headers).toMatchObject({ 'remote-user': 'sam', 'remote-groups': 'Readers' });
      expect(JSON.stringify(reached.map((s) => s.headers))).not.toMatch(/mallory|admin|webauthn/i);
    });
  });
}

// Last: it stops the portal.
test('with Portcullis stopped, neither proxy lets Sam through, signed in as he is: an error, never the app', async ({ page }) => {
  const appUrl = running.get('nginx')!.urlFor('/wiki/');
  await page.goto(appUrl);
  await signInAtPortal(page, appUrl, 'sam');
  await expect(page.getByTestId('remote-user')).toHaveText('sam');
  // One session cookie on example.test serves both apps: with the portal up, both let it through.
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  for (const proxy of running.values()) expect((await request(proxy.port, proxy.appHost, '/wiki/', { cookie })).status).toBe(200);

  await portal.stop();
  const before = upstream.seen.length;
  for (const proxy of running.values()) {
    const res = await request(proxy.port, proxy.appHost, '/wiki/', { cookie });
    expect(res.status, `${proxy.kind} with Portcullis stopped`).toBeGreaterThanOrEqual(500);
  }
  expect(upstream.seen.length).toBe(before);
});

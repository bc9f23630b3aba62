import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { EncryptJWT } from 'jose';
import type { Db } from '../../../db';
import { manualClock, oneDay } from '../../../lib/clock';
import { cliActor } from '../../../lib/admin/actor';
import { createUser } from '../../../lib/admin/users';
import { createGroup, deleteGroup, renameGroup, setGroupMembers } from '../../../lib/admin/groups';
import { createPolicy } from '../../../lib/admin/policies';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { createSession, elevateSession, validateSession } from '../../../lib/auth/sessions';
import { encodeSessionCookie, sessionCookieKey } from '../../../lib/auth/cookie';
import { buildDeclaredResources } from '../../../lib/gate/declared-resources';
import { createForwardAuthHandler } from '../../../lib/gate/forward-auth';
import { dialects, freshDb } from '../support/dialects';

process.env.PORTCULLIS_SECRET ??= 'forward-auth-test-secret-0123456789abcdef';

const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const origin = 'https://portal.example.test';
const resources = buildDeclaredResources(origin, 'app.example.test/=wiki, example.test/billing=billing');
const cookieName = 'portcullis.session';
const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

/** Traefik's / Caddy's subrequest for `method proto://host uri`. */
function traefik(original: { method?: string; proto?: string; host?: string; uri?: string }, extra: Record<string, string> = {}): Request {
  const headers = new Headers({ 'user-agent': chrome, ...extra });
  const fields = { method: 'GET', proto: 'https', host: 'app.example.test', uri: '/', ...original };
  if (fields.method !== '') headers.set('x-forwarded-method', fields.method);
  if (fields.proto !== '') headers.set('x-forwarded-proto', fields.proto);
  if (fields.host !== '') headers.set('x-forwarded-host', fields.host);
  if (fields.uri !== '') headers.set('x-forwarded-uri', fields.uri);
  return new Request('http://portal.example.test/api/authz/forward-auth', { headers });
}

/** nginx's auth_request subrequest for `method url`. */
function nginx(url: string | null, method: string | null = 'GET', extra: Record<string, string> = {}): Request {
  const headers = new Headers({ 'user-agent': chrome, ...extra });
  if (url !== null) headers.set('x-original-url', url);
  if (method !== null) headers.set('x-original-method', method);
  return new Request('http://portal.example.test/api/authz/auth-request', { headers });
}

const withCookie = (value: string) => ({ cookie: `theme=dark; ${cookieName}=${value}; other=1` });
const remoteHeaders = (response: Response) =>
  Object.fromEntries(['remote-user', 'remote-email', 'remote-name', 'remote-groups', 'remote-methods'].map((name) => [name, response.headers.get(name)]));
const utf8 = (header: string | null) => Buffer.from(header ?? '', 'latin1').toString('utf8');

/*
 * The forward-auth endpoints as a proxy meets them, on each dialect. Declared: the wiki on
 * app.example.test (whole host) and billing under example.test/billing. Personas:
 * - Ada the admin: TOTP enrolled, in "Wiki editors" and "Ops, night shift" (a comma in the name).
 * - Bob without MFA: no factors, nothing required.
 * - Cora the newcomer: MFA required of her, enrollment period running.
 * - Dan the contractor: a policy denies him billing.
 */
describe.each(dialects)('forward-auth endpoints on %s', (dialect) => {
  let db: Db;
  const clock = manualClock(start);
  const users: Record<string, string> = {};
  let forwardAuth: (request: Request) => Promise<Response>;
  let authRequest: (request: Request) => Promise<Response>;

  async function cookieFor(name: string): Promise<string> {
    return encodeSessionCookie(await createSession(db.kysely, users[name], { ip: '10.0.0.1', userAgent: chrome }, clock));
  }

  beforeEach(async () => {
    clock.set(start);
    db = await freshDb(dialect);
    users.ada = (await createUser(db.kysely, { username: 'ada', state: 'active', email: 'ada@example.test', displayName: 'Ada Zoë Lovelace' }, cliActor, clock)).id;
    for (const name of ['bob', 'cora', 'dan']) {
      users[name] = (await createUser(db.kysely, { username: name, state: 'active' }, cliActor, clock)).id;
    }
    const editors = await createGroup(db.kysely, { name: 'Wiki editors' }, cliActor, clock);
    const ops = await createGroup(db.kysely, { name: 'Ops, night shift' }, cliActor, clock);
    const contractors = await createGroup(db.kysely, { name: 'Contractors' }, cliActor, clock);
    await setGroupMembers(db.kysely, editors.id, { userIds: [users.ada] }, cliActor, clock);
    await setGroupMembers(db.kysely, ops.id, { userIds: [users.ada] }, cliActor, clock);
    await setGroupMembers(db.kysely, contractors.id, { userIds: [users.dan] }, cliActor, clock);
    await db.kysely
      .insertInto('factors')
      .values({ id: randomUUID(), user_id: users.ada, type: 'totp', name: 'Phone', created_at: start, last_used_at: null, secret_enc: 'x', last_used_step: null, credential_id: null, public_key: null, sign_count: null, transports: null })
      .execute();
    await requireMfaForUsers(db.kysely, { userIds: [users.cora], enrollmentDays: 7 }, cliActor, clock);
    await createPolicy(
      db.kysely,
      { name: 'No contractors in billing', enabled: true, scope: 'groups', includeGroupIds: [contractors.id], excludeGroupIds: [], conditions: {}, resources: ['billing'], action: 'deny', priority: 0 },
      cliActor,
      clock,
    );
    const options = { db: async () => db, resources: () => resources, clock, cookieName: () => cookieName };
    forwardAuth = createForwardAuthHandler('forward-auth', options);
    authRequest = createForwardAuthHandler('auth-request', options);
  });

  afterEach(async () => {
    await db.close();
  });

  describe('decisions', () => {
    it('without a cookie: 302 to sign in, returning to the original absolute URL', async () => {
      const response = await forwardAuth(traefik({ uri: '/pages/home?x=1' }));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${origin}/login?returnTo=${encodeURIComponent('https://app.example.test/pages/home?x=1')}`);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('remote-user')).toBeNull();
    });

    it('Bob without MFA is allowed, with his Remote-* headers', async () => {
      const response = await forwardAuth(traefik({ uri: '/pages/home' }, withCookie(await cookieFor('bob'))));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(remoteHeaders(response)).toEqual({ 'remote-user': 'bob', 'remote-email': '', 'remote-name': '', 'remote-groups': '', 'remote-methods': 'pwd' });
    });

    it('Ada with a password only is challenged; after TOTP she is allowed with her name, groups and methods', async () => {
      const token = await createSession(db.kysely, users.ada, { ip: null, userAgent: null }, clock);
      const before = await forwardAuth(traefik({ uri: '/edit' }, withCookie(await encodeSessionCookie(token))));
      expect(before.status).toBe(302);
      expect(before.headers.get('location')).toBe(`${origin}/mfa/verify?returnTo=${encodeURIComponent('https://app.example.test/edit')}`);

      clock.advance(10_000);
      const elevated = (await elevateSession(db.kysely, (await validateSession(db, token, clock))!, 'totp', clock))!;
      const after = await forwardAuth(traefik({ uri: '/edit' }, withCookie(await encodeSessionCookie(elevated))));
      expect(after.status).toBe(200);
      expect(after.headers.get('remote-user')).toBe('ada');
      expect(after.headers.get('remote-email')).toBe('ada@example.test');
      // UTF-8 bytes on the wire: "ë" is c3 ab.
      expect(utf8(after.headers.get('remote-name'))).toBe('Ada Zoë Lovelace');
      // Sorted; the comma inside a name is escaped, so the list splits into whole names.
      expect(after.headers.get('remote-groups')).toBe('Ops%2C night shift,Wiki editors');
      expect(after.headers.get('remote-methods')).toBe('pwd,totp');
    });

    it('a renamed or deleted group shows at the next answer (group names follow the configuration version)', async () => {
      const cookie = withCookie(await cookieFor('dan'));
      expect((await forwardAuth(traefik({}, cookie))).headers.get('remote-groups')).toBe('Contractors');
      const [contractors] = await db.kysely.selectFrom('groups').select('id').where('name', '=', 'Contractors').execute();
      await renameGroup(db.kysely, contractors.id, { name: 'Vendors' }, cliActor, clock);
      expect((await forwardAuth(traefik({}, cookie))).headers.get('remote-groups')).toBe('Vendors');
      await deleteGroup(db.kysely, contractors.id, cliActor, clock);
      expect((await forwardAuth(traefik({}, cookie))).headers.get('remote-groups')).toBe('');
    });

    it('Cora in her enrollment period is sent to set up a factor', async () => {
      const response = await forwardAuth(traefik({ uri: '/' }, withCookie(await cookieFor('cora'))));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${origin}/mfa/setup?returnTo=${encodeURIComponent('https://app.example.test/')}`);
    });

    it('Cora after her period is locked: /mfa/locked, no return target', async () => {
      clock.advance(7 * oneDay);
      const response = await forwardAuth(traefik({}, withCookie(await cookieFor('cora'))));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${origin}/mfa/locked`);
    });

    it('Dan the contractor is denied billing by policy, but not the wiki', async () => {
      const cookie = withCookie(await cookieFor('dan'));
      const billing = await forwardAuth(traefik({ host: 'example.test', uri: '/billing/invoices' }, cookie));
      expect(billing.status).toBe(302);
      expect(billing.headers.get('location')).toBe(`${origin}/denied`);
      expect((await forwardAuth(traefik({ host: 'app.example.test', uri: '/' }, cookie))).status).toBe(200);
    });

    it('302 for GET and HEAD, 303 for any other original method', async () => {
      for (const method of ['GET', 'HEAD', 'get']) expect((await forwardAuth(traefik({ method }))).status).toBe(302);
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect((await forwardAuth(traefik({ method }))).status).toBe(303);
    });

    it('the answer is the same whatever method the proxy uses for the subrequest', async () => {
      const cookie = withCookie(await cookieFor('bob'));
      for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const sub = traefik({}, cookie);
        const response = await forwardAuth(new Request(sub.url, { method, headers: sub.headers }));
        expect(response.status).toBe(200);
        expect(response.headers.get('remote-user')).toBe('bob');
      }
    });
  });

  describe('nginx auth_request', () => {
    it('401 for sign in, verify and setup; 403 for denied and locked; Location as for forward-auth', async () => {
      const signIn = await authRequest(nginx('https://app.example.test/a?b=c', 'POST'));
      expect(signIn.status).toBe(401);
      expect(signIn.headers.get('location')).toBe(`${origin}/login?returnTo=${encodeURIComponent('https://app.example.test/a?b=c')}`);
      const ada = withCookie(await cookieFor('ada'));
      expect((await authRequest(nginx('https://app.example.test/', 'GET', ada))).status).toBe(401);
      expect((await authRequest(nginx('https://app.example.test/', 'GET', withCookie(await cookieFor('cora'))))).status).toBe(401);
      const denied = await authRequest(nginx('https://example.test/billing', 'GET', withCookie(await cookieFor('dan'))));
      expect(denied.status).toBe(403);
      expect(denied.headers.get('location')).toBe(`${origin}/denied`);
      clock.advance(7 * oneDay);
      const locked = await authRequest(nginx('https://app.example.test/', 'GET', withCookie(await cookieFor('cora'))));
      expect(locked.status).toBe(403);
      expect(locked.headers.get('location')).toBe(`${origin}/mfa/locked`);
    });

    it('200 with the Remote-* headers for Bob', async () => {
      const response = await authRequest(nginx('https://app.example.test/x', 'GET', withCookie(await cookieFor('bob'))));
      expect(response.status).toBe(200);
      expect(response.headers.get('remote-user')).toBe('bob');
      expect(response.headers.get('remote-methods')).toBe('pwd');
    });

    it.each([
      [null, 'GET', 'Missing X-Original-URL header.'],
      ['https://app.example.test/', null, 'Missing X-Original-Method header.'],
      ['/relative/path', 'GET', 'X-Original-URL is not an absolute http(s) URL.'],
      ['ftp://app.example.test/', 'GET', 'X-Original-URL is not an absolute http(s) URL.'],
      ['javascript:alert(1)', 'GET', 'X-Original-URL is not an absolute http(s) URL.'],
      ['https://user@app.example.test/', 'GET', 'X-Original-URL does not name a plain host.'],
      ['https://evil.test\\@app.example.test/', 'GET', 'X-Original-URL does not name a plain host.'],
      ['https://app.example.test:99999/', 'GET', 'X-Original-URL does not name a plain host.'],
      ['https://app.example.test/ with space', 'GET', 'X-Original-URL has characters a URL cannot have.'],
      ['https://app.example.test/', 'G ET', 'X-Original-Method has characters a URL cannot have.'],
      ['https://app.example.test/', '1GET', 'X-Original-Method is not an HTTP method.'],
    ])('%s %s → 400 "%s"', async (url, method, problem) => {
      const response = await authRequest(nginx(url, method, withCookie(await cookieFor('bob'))));
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(problem);
    });
  });

  describe('what no declared resource names is denied', () => {
    it.each([
      ['an unknown host', { host: 'intranet.example.test' }],
      ['the parent host outside its declared prefix', { host: 'example.test', uri: '/' }],
      ['a prefix look-alike', { host: 'example.test', uri: '/billingx' }],
    ])('%s → /denied, even for Bob', async (_, original) => {
      const response = await forwardAuth(traefik(original, withCookie(await cookieFor('bob'))));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(`${origin}/denied`);
      expect(response.headers.get('remote-user')).toBeNull();
    });

    it('needs no database to deny: an unknown host is /denied even with the data layer down', async () => {
      const down = await freshDb(dialect);
      await down.close();
      const handler = createForwardAuthHandler('auth-request', { db: async () => down, resources: () => resources, clock, cookieName: () => cookieName });
      const response = await handler(nginx('https://intranet.example.test/'));
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBe(`${origin}/denied`);
    });
  });

  describe('missing and malformed original-request headers → 400, never 200', () => {
    it.each([
      [{ method: '' }, 'Missing X-Forwarded-Method header.'],
      [{ proto: '' }, 'Missing X-Forwarded-Proto header.'],
      [{ host: '' }, 'Missing X-Forwarded-Host header.'],
      [{ uri: '' }, 'Missing X-Forwarded-Uri header.'],
      [{ proto: 'gopher' }, 'X-Forwarded-Proto is neither http nor https.'],
      [{ proto: 'https,http' }, 'X-Forwarded-Proto is neither http nor https.'],
      [{ host: 'evil.test@app.example.test' }, 'X-Forwarded-Host is not a host name.'],
      [{ host: 'app.example.test,evil.test' }, 'X-Forwarded-Host is not a host name.'],
      [{ host: 'app.example.test/x' }, 'X-Forwarded-Host is not a host name.'],
      [{ uri: '//evil.test/x' }, 'X-Forwarded-Uri is not a path.'],
      [{ uri: '/\\evil.test/x' }, 'X-Forwarded-Uri is not a path.'],
      [{ uri: 'https://evil.test/' }, 'X-Forwarded-Uri is not a path.'],
      [{ uri: '@evil.test/' }, 'X-Forwarded-Uri is not a path.'],
      [{ uri: `/${'a'.repeat(4096)}` }, 'X-Forwarded-Uri is too long (at most 4096 characters).'],
      [{ uri: '/caf\u00e9' }, 'X-Forwarded-Uri has characters a URL cannot have.'],
    ])('%# → 400 "%s"', async (original, problem) => {
      const response = await forwardAuth(traefik(original, withCookie(await cookieFor('bob'))));
      expect(response.status).toBe(400);
      expect(await response.text()).toBe(problem);
      expect(response.headers.get('remote-user')).toBeNull();
    });
  });

  describe('odd encodings: the path matcher decides, and what it cannot read is denied', () => {
    it.each([
      ['/billing/%2e%2e/%2e%2e/admin', '/denied'],
      ['/billing%2f..%2f..%2fadmin', '/denied'],
      ['/billing/%252e%252e/x', '/denied'],
      ['/billing/%2525252e%2525252e/x', '/denied'],
      ['/%25252e%25252e/billing/x', null],
      ['/billing\\..\\x', '/denied'],
      ['/billing/%00', '/denied'],
      ['/billing/../other', '/denied'],
      ['/other/../billing/x', null],
      ['/%62illing/x', null],
    ])('example.test%s', async (uri, location) => {
      const response = await forwardAuth(traefik({ host: 'example.test', uri }, withCookie(await cookieFor('bob'))));
      if (location === null) expect(response.status).toBe(200);
      else expect([response.status, response.headers.get('location')]).toEqual([302, `${origin}${location}`]);
    });
  });

  describe('open redirects: Location is always on the portal, and returnTo on the host asked about', () => {
    it.each(['/?returnTo=https://evil.test', '/@evil.test', '/.evil.test', '/%2F%2Fevil.test'])('app.example.test%s', async (uri) => {
      const response = await forwardAuth(traefik({ uri }));
      const location = new URL(response.headers.get('location')!);
      expect(location.origin).toBe(origin);
      expect(new URL(location.searchParams.get('returnTo')!).host).toBe('app.example.test');
    });

    it('an X-Original-URL with a port on a declared host keeps that host and port in returnTo', async () => {
      const response = await authRequest(nginx('http://APP.example.test:8080/x'));
      expect(response.headers.get('location')).toBe(`${origin}/login?returnTo=${encodeURIComponent('http://app.example.test:8080/x')}`);
    });
  });

  describe('the cookie', () => {
    it('a cookie encrypted under another secret, a garbage cookie, or an unknown session → sign in, nothing more', async () => {
      const token = await createSession(db.kysely, users.bob, { ip: null, userAgent: null }, clock);
      const foreign = await new EncryptJWT({ sid: token })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .encrypt(sessionCookieKey('another-deployment-secret-0123456789abcdef'));
      const unknown = await encodeSessionCookie('A'.repeat(43));
      for (const value of [foreign, 'garbage', 'x'.repeat(5000), unknown, '']) {
        const response = await forwardAuth(traefik({}, withCookie(value)));
        expect(response.status).toBe(302);
        expect(response.headers.get('location')).toContain('/login?returnTo=');
      }
    });

    it("the answer is for the cookie's session only: Bob's cookie with a forged Remote-User: ada is Bob", async () => {
      const response = await forwardAuth(traefik({}, { ...withCookie(await cookieFor('bob')), 'remote-user': 'ada', 'remote-groups': 'Wiki editors' }));
      expect(remoteHeaders(response)).toMatchObject({ 'remote-user': 'bob', 'remote-groups': '' });
    });

    it('a session cookie of the right name but for another path or host does not count twice: the first one is read', async () => {
      const bob = await cookieFor('bob');
      const response = await forwardAuth(traefik({}, { cookie: `${cookieName}=garbage; ${cookieName}=${bob}` }));
      expect(response.status).toBe(302);
    });
  });

  it('R-D10: the data layer down → 503, never an allow', async () => {
    const cookie = withCookie(await cookieFor('bob'));
    const down = await freshDb(dialect);
    await down.close();
    const handler = createForwardAuthHandler('forward-auth', { db: async () => down, resources: () => resources, clock, cookieName: () => cookieName });
    const response = await handler(traefik({}, cookie));
    expect(response.status).toBe(503);
    expect(response.headers.get('remote-user')).toBeNull();
  });
});

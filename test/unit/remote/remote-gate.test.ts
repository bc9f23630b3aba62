import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { NextRequest } from 'next/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRemoteMfaGate, remoteRouteAccess } from 'portcullis/next';
// @ts-expect-error plain ESM with JSDoc, no declaration file of its own (remote/next.d.ts covers the public entry)
import { createAllowCache, groupNames, headerText, parseBaseUrl, portalLocation, sessionCookiesOf } from '../../../remote/core.mjs';

/**
 * The remote gate (portcullis/next) against a real HTTP server that answers the way the
 * forward-auth contract says Portcullis does: 200 with Remote-* headers, 302/303 to a page
 * on the portal's origin, anything else.
 */

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}
type Reply = (seen: Seen) => { status: number; headers?: Record<string, string>; delayMs?: number };

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  vi.restoreAllMocks();
});

/** A stand-in Portcullis on 127.0.0.1 that records each question and answers with `reply`. */
async function fakePortcullis(reply: Reply) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const question = { url: req.url ?? '', headers: req.headers };
    seen.push(question);
    const answer = reply(question);
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
    }, answer.delayMs ?? 0);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen };
}

const adaAllowed: Reply = () => ({
  status: 200,
  headers: {
    'remote-user': 'ada',
    'remote-email': 'ada@example.test',
    'remote-name': 'Ada Lovelace',
    'remote-groups': 'admins, reports',
    'remote-methods': 'pwd,totp',
    'cache-control': 'no-store',
  },
});

let cookieCounter = 0;
/** A fresh session cookie per test: the allow cache is per process and shared. */
const freshSession = () => `portcullis.session=ada-session-${process.pid}-${++cookieCounter}-${Math.random()}`;

function appRequest(url: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return new NextRequest(url, { method: init.method ?? 'GET', headers: init.headers });
}

/** The request headers the middleware hands on to the app (NextResponse.next({ request })). */
function forwardedRequestHeaders(res: Response): Record<string, string> {
  const names = (res.headers.get('x-middleware-override-headers') ?? '').split(',').filter(Boolean);
  return Object.fromEntries(names.map((n) => [n, res.headers.get(`x-middleware-request-${n}`) ?? '']));
}

describe('the remote gate asks Portcullis the forward-auth question', () => {
  it("sends Ada's method, scheme, host, path, client address and user agent, and only her Portcullis cookie", async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, cacheMs: 0 });
    const session = freshSession();
    await gate(
      appRequest('http://remote.example.test:3001/reports/q1?year=2026&x=%2F', {
        headers: {
          host: 'remote.example.test:3001',
          cookie: `theme=dark; ${session}; app.session=secret-of-the-app; __Secure-portcullis.session=b`,
          'x-forwarded-for': '203.0.113.7',
          'user-agent': 'AdaBrowser/1.0',
        },
      }),
    );
    expect(portal.seen).toHaveLength(1);
    const q = portal.seen[0];
    expect(q.url).toBe('/api/authz/forward-auth');
    expect(q.headers['x-forwarded-method']).toBe('GET');
    expect(q.headers['x-forwarded-proto']).toBe('http');
    expect(q.headers['x-forwarded-host']).toBe('remote.example.test:3001');
    expect(q.headers['x-forwarded-uri']).toBe('/reports/q1?year=2026&x=%2F');
    expect(q.headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(q.headers['user-agent']).toBe('AdaBrowser/1.0');
    expect(q.headers.cookie).toBe(`${session}; __Secure-portcullis.session=b`);
  });

  it('pins scheme and host to appUrl when given, whatever Host a client sends', async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, appUrl: 'https://remote.example.test', cacheMs: 0 });
    await gate(appRequest('http://lax.example.test/reports', { headers: { host: 'lax.example.test', cookie: freshSession() } }));
    expect(portal.seen[0].headers['x-forwarded-host']).toBe('remote.example.test');
    expect(portal.seen[0].headers['x-forwarded-proto']).toBe('https');
  });

  it("lets Ada through with Portcullis's Remote-* headers, and drops the ones the client sent", async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, cacheMs: 0 });
    const res = await gate(
      appRequest('http://remote.example.test/reports', {
        headers: { cookie: freshSession(), 'remote-user': 'mallory', 'remote-admin': 'yes', accept: 'text/html' },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-middleware-next')).toBe('1');
    const passed = forwardedRequestHeaders(res);
    expect(passed['remote-user']).toBe('ada');
    expect(passed['remote-groups']).toBe('admins, reports');
    expect(passed['remote-methods']).toBe('pwd,totp');
    expect(passed['remote-email']).toBe('ada@example.test');
    expect(passed['remote-name']).toBe('Ada Lovelace');
    expect(passed.accept).toBe('text/html');
    expect(passed).not.toHaveProperty('remote-admin');
  });
});

describe('a refusal sends the browser to Portcullis, and only to Portcullis', () => {
  it('sends Bob without a session to the sign-in page Portcullis names (302 for GET)', async () => {
    const login = 'http://portal.example.test:4000/login?returnTo=http%3A%2F%2Fremote.example.test%2Freports';
    const portal = await fakePortcullis(() => ({ status: 302, headers: { location: login } }));
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, publicUrl: 'http://portal.example.test:4000' });
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: 'theme=dark' } }));
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(login);
    expect(res.headers.get('x-middleware-next')).toBeNull();
    expect(portal.seen[0].headers.cookie).toBeUndefined();
  });

  it("keeps Portcullis's 303 for a POST", async () => {
    const portal = await fakePortcullis(() => ({ status: 303, headers: { location: `${portalUrlOf(portal)}/mfa/verify?returnTo=x` } }));
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url });
    const res = await gate(appRequest('http://remote.example.test/reports', { method: 'POST', headers: { cookie: freshSession() } }));
    expect(portal.seen[0].headers['x-forwarded-method']).toBe('POST');
    expect(res.status).toBe(303);
  });

  it.each([
    ['another host', 'https://evil.example/login'],
    ["the portal's host on another port", 'http://portal.example.test:4001/login'],
    ['another scheme', 'https://portal.example.test:4000/login'],
    ['a protocol-relative URL', '//evil.example/login'],
    ['a relative path', '/login'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['credentials in the URL', 'http://x@portal.example.test:4000/login'],
  ])('answers 503 to a Location on %s, never redirects there', async (_what, location) => {
    const portal = await fakePortcullis(() => ({ status: 302, headers: { location } }));
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, publicUrl: 'http://portal.example.test:4000' });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: freshSession() } }));
    expect(res.status).toBe(503);
    expect(res.headers.get('location')).toBeNull();
    expect(errors.mock.calls.join(' ')).toContain("a redirect off Portcullis's origin");
  });
});

const portalUrlOf = (p: { url: string }) => p.url;

describe('the remote gate fails closed', () => {
  it.each([
    ['400 (missing headers)', 400],
    ['401', 401],
    ['403', 403],
    ['500', 500],
    ['503 (its database down)', 503],
    ['200 without Remote-User', 200],
  ])('answers 503 when Portcullis answers %s', async (_what, status) => {
    const portal = await fakePortcullis(() => ({ status }));
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: freshSession() } }));
    expect(res.status).toBe(503);
    expect(res.headers.get('x-middleware-next')).toBeNull();
    expect(errors.mock.calls.join(' ')).toContain(status === 200 ? 'without Remote-User' : `answered ${status}`);
  });

  it('answers 503 when nothing listens at PORTCULLIS_URL', async () => {
    const portal = await fakePortcullis(adaAllowed);
    await new Promise((r) => servers.pop()!.close(r));
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: freshSession() } }));
    expect(res.status).toBe(503);
    expect(errors.mock.calls.join(' ')).toContain('ECONNREFUSED');
  });

  it('answers 503 after timeoutMs when Portcullis is too slow', async () => {
    const portal = await fakePortcullis(() => ({ ...adaAllowed({ url: '', headers: {} }), delayMs: 2000 }));
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, timeoutMs: 200 });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const started = Date.now();
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: freshSession() } }));
    expect(res.status).toBe(503);
    expect(errors.mock.calls.join(' ')).toContain('no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('says at creation that PORTCULLIS_URL is missing, then answers every request 503', async () => {
    vi.stubEnv('PORTCULLIS_URL', '');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const gate = createRemoteMfaGate();
    expect(errors.mock.calls.join(' ')).toContain('PORTCULLIS_URL is not set');
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: freshSession() } }));
    expect(res.status).toBe(503);
    vi.unstubAllEnvs();
  });

  it('refuses to ask about an oversized cookie rather than cut it', async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await gate(appRequest('http://remote.example.test/reports', { headers: { cookie: `portcullis.session=${'a'.repeat(9000)}` } }));
    expect(res.status).toBe(503);
    expect(errors.mock.calls.join(' ')).toContain('cannot be asked about (cookie)');
    expect(portal.seen).toHaveLength(0);
  });
});

describe('the allow cache', () => {
  it("reuses Ada's allowed answer for the same question within cacheMs, and asks again after it", async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, cacheMs: 300 });
    const ask = (cookie: string) => gate(appRequest('http://remote.example.test/reports', { headers: { cookie, 'user-agent': 'A' } }));
    const session = freshSession();
    expect((await ask(session)).status).toBe(200);
    expect((await ask(session)).status).toBe(200);
    expect(portal.seen).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 350));
    await ask(session);
    expect(portal.seen).toHaveLength(2);
  });

  it('never shares an answer between different cookies, paths, methods, client addresses or user agents', async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, cacheMs: 60_000 });
    const session = freshSession();
    const base = { url: 'http://remote.example.test/reports', method: 'GET', cookie: session, xff: '203.0.113.7', ua: 'A' };
    const variants = [base, { ...base, cookie: freshSession() }, { ...base, url: 'http://remote.example.test/reports/2' }, { ...base, method: 'POST' }, { ...base, xff: '198.51.100.1' }, { ...base, ua: 'B' }, { ...base, url: 'http://other.example.test/reports' }];
    for (const v of variants) {
      await gate(appRequest(v.url, { method: v.method, headers: { cookie: v.cookie, 'x-forwarded-for': v.xff, 'user-agent': v.ua, host: new URL(v.url).host } }));
    }
    expect(portal.seen).toHaveLength(variants.length);
  });

  it('never caches a refusal: Bob, sent to set up MFA, is asked about again on his next request', async () => {
    let enrolled = false;
    const portal = await fakePortcullis((q) =>
      enrolled ? adaAllowed(q) : { status: 302, headers: { location: `${portalUrlOf(portal)}/mfa/setup?returnTo=x` } },
    );
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, cacheMs: 60_000 });
    const session = freshSession();
    const ask = () => gate(appRequest('http://remote.example.test/reports', { headers: { cookie: session } }));
    expect((await ask()).status).toBe(302);
    expect((await ask()).status).toBe(302);
    enrolled = true;
    expect((await ask()).status).toBe(200);
    expect(portal.seen).toHaveLength(3);
  });

  it('never caches an answer to a request without a Portcullis cookie', async () => {
    const portal = await fakePortcullis(adaAllowed);
    const gate = createRemoteMfaGate({ portcullisUrl: portal.url, cacheMs: 60_000 });
    await gate(appRequest('http://remote.example.test/reports'));
    await gate(appRequest('http://remote.example.test/reports'));
    expect(portal.seen).toHaveLength(2);
  });

  it('expires entries and holds at most maxEntries, dropping the oldest', () => {
    let now = 1_000;
    const cache = createAllowCache({ ttlMs: 5_000, maxEntries: 2, now: () => now });
    const allow = (username: string) => ({ kind: 'allow', user: { username, email: '', name: '', groups: [], methods: [] }, headers: {} });
    cache.set('a', allow('ada'));
    cache.set('b', allow('bob'));
    cache.set('c', allow('cy'));
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b').user.username).toBe('bob');
    cache.set('refused', { kind: 'redirect', status: 302, location: 'http://p/login' });
    expect(cache.get('refused')).toBeUndefined();
    now += 5_000;
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeUndefined();
  });
});

describe('the route handler helper', () => {
  it.each([
    ['/login', 401, 'Sign-in required'],
    ['/mfa/setup', 403, 'Access denied'],
    ['/denied', 403, 'Access denied'],
  ])('answers %s with %i problem+json', async (page, status, title) => {
    const portal = await fakePortcullis(() => ({ status: 302, headers: { location: `${portalUrlOf(portal)}${page}?returnTo=x` } }));
    const access = await remoteRouteAccess(new Request('http://remote.example.test/api/whoami', { headers: { cookie: freshSession() } }), { portcullisUrl: portal.url });
    expect(access.response?.status).toBe(status);
    expect(await access.response?.json()).toMatchObject({ title, status });
  });

  it('gives Ada to the route, asked from the route\'s own request, not from its Remote-* headers', async () => {
    const portal = await fakePortcullis(adaAllowed);
    const access = await remoteRouteAccess(
      new Request('http://remote.example.test/api/whoami', { headers: { cookie: freshSession(), 'remote-user': 'mallory' } }),
      { portcullisUrl: portal.url },
    );
    expect(access.user).toEqual({ username: 'ada', email: 'ada@example.test', name: 'Ada Lovelace', groups: ['admins', 'reports'], methods: ['pwd', 'totp'] });
    expect(portal.seen[0].headers['remote-user']).toBeUndefined();
  });

  it('answers 503 when Portcullis cannot be reached', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const access = await remoteRouteAccess(new Request('http://remote.example.test/api/whoami'), { portcullisUrl: 'http://127.0.0.1:1' });
    expect(access.response?.status).toBe(503);
  });
});

describe('the pure parts', () => {
  it('keeps only the Portcullis session cookies', () => {
    expect(sessionCookiesOf('a=1; portcullis.session=x; __Host-portcullis.session=y; portcullis.session.evil=z; b')).toBe(
      'portcullis.session=x; __Host-portcullis.session=y',
    );
    expect(sessionCookiesOf(undefined)).toBe('');
  });

  it('takes only an http(s) PORTCULLIS_URL without credentials, query or fragment', () => {
    expect(parseBaseUrl('https://portal.example.com/')).toEqual({ url: 'https://portal.example.com', origin: 'https://portal.example.com' });
    expect(parseBaseUrl('http://10.0.0.5:3000/auth/')).toEqual({ url: 'http://10.0.0.5:3000/auth', origin: 'http://10.0.0.5:3000' });
    for (const bad of [undefined, '', 'portal.example.com', 'ftp://p', 'https://u:p@p', 'https://p/?x=1']) expect(parseBaseUrl(bad)).toHaveProperty('error');
  });

  it("reads Remote-* values as Portcullis writes them: UTF-8 bytes, and group names with ',' and '%' escaped", () => {
    expect(headerText(Buffer.from('Zoë Ødegård', 'utf8').toString('latin1'))).toBe('Zoë Ødegård');
    expect(groupNames('Finance%2C Europe,R%25D,Analysts')).toEqual(['Finance, Europe', 'R%D', 'Analysts']);
    expect(groupNames('%252C')).toEqual(['%2C']);
    expect(groupNames('')).toEqual([]);
  });

  it('accepts a Location only on the given origins', () => {
    expect(portalLocation('https://p.example/login?returnTo=x', ['https://p.example'])).toBe('https://p.example/login?returnTo=x');
    expect(portalLocation('https://p.example.evil/login', ['https://p.example'])).toBeNull();
    expect(portalLocation(null, ['https://p.example'])).toBeNull();
  });
});

describe('the package entry', () => {
  it("resolves `portcullis/next` through package.json's exports, from the repo and from an app that installed it", () => {
    const entry = pathToFileURL(path.join(repoRoot, 'remote', 'next.mjs')).href;
    const resolveFrom = (cwd: string) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('portcullis/next'))"], { cwd, encoding: 'utf8' }).trim();
    expect(resolveFrom(repoRoot)).toBe(entry);
    // test/fixtures/remote-app/node_modules/portcullis → the repo root, what `npm install <path>` makes.
    const appDir = path.join(repoRoot, 'test', 'fixtures', 'remote-app');
    execFileSync(process.execPath, ['--input-type=module', '-e', "import('./link.mjs').then((m) => m.linkPortcullis())"], { cwd: appDir });
    const fromApp = resolveFrom(appDir);
    expect(fromApp.endsWith('/test/fixtures/remote-app/node_modules/portcullis/remote/next.mjs') || fromApp === entry).toBe(true);
  });
});

// `portcullis/next`: the gate for a separate Next.js app, and the R-D9 helpers for its pages,
// route handlers and server actions. It asks Portcullis over HTTP (/api/authz/forward-auth)
// and never touches the portal's database code, so it may import only next/* and node
// built-ins. Types: next.d.ts beside this file.
import { NextResponse } from 'next/server';
import { headers as requestHeaders } from 'next/headers';
import { redirect } from 'next/navigation';
import { askPortcullis, cacheKeyOf, createAllowCache, invalidFacts, parseBaseUrl, sessionCookiesOf } from './core.mjs';

const DEFAULT_CACHE_MS = 5000;
const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_ENTRIES = 1000;
const LOG_PREFIX = '[portcullis remote gate]';

/**
 * One allow cache per process and setting, shared by the middleware and the helpers even when
 * the bundler loads this module twice (middleware and server bundles), so a page's own check
 * right after the middleware's costs no second question.
 */
const CACHES = Symbol.for('portcullis.remote.allow-caches');
/** @param {number} ttlMs @param {number} maxEntries */
function sharedCache(ttlMs, maxEntries) {
  const g = /** @type {Record<symbol, Map<string, ReturnType<typeof createAllowCache>>>} */ (/** @type {unknown} */ (globalThis));
  const caches = (g[CACHES] ??= new Map());
  const id = `${ttlMs}/${maxEntries}`;
  let cache = caches.get(id);
  if (!cache) caches.set(id, (cache = createAllowCache({ ttlMs, maxEntries })));
  return cache;
}

/**
 * @param {import('./next').RemoteGateOptions} [options]
 * @returns {{ ok: true, base: string, origins: string[], pinned: { proto: 'http' | 'https', host: string } | null, timeoutMs: number, cache: ReturnType<typeof createAllowCache>, fetch?: typeof fetch } | { ok: false, error: string }}
 */
function resolve(options = {}) {
  const base = parseBaseUrl(options.portcullisUrl ?? process.env.PORTCULLIS_URL);
  if ('error' in base) return { ok: false, error: base.error };
  const origins = [base.origin];
  const publicValue = options.publicUrl ?? process.env.PORTCULLIS_PUBLIC_URL;
  if (publicValue) {
    const pub = parseBaseUrl(publicValue, 'PORTCULLIS_PUBLIC_URL');
    if ('error' in pub) return { ok: false, error: pub.error };
    origins.push(pub.origin);
  }
  let pinned = null;
  const appValue = options.appUrl ?? process.env.PORTCULLIS_APP_URL;
  if (appValue) {
    const app = parseBaseUrl(appValue, 'PORTCULLIS_APP_URL');
    if ('error' in app) return { ok: false, error: app.error };
    const url = new URL(app.origin);
    pinned = { proto: /** @type {'http' | 'https'} */ (url.protocol.slice(0, -1)), host: url.host };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!(timeoutMs > 0) || !(cacheMs >= 0) || !(maxEntries >= 1)) return { ok: false, error: 'timeoutMs must be > 0, cacheMs >= 0, maxEntries >= 1' };
  return { ok: true, base: base.url, origins, pinned, timeoutMs, cache: sharedCache(cacheMs, maxEntries), fetch: options.fetch };
}

/**
 * @param {Headers} h the request's headers
 * @param {{ method: string, proto: string, uri: string, host?: string }} addressed `host`: the
 *   request URL's, for when the Host header is absent
 * @param {{ proto: 'http' | 'https', host: string } | null} pinned
 * @returns {import('./core.mjs').RequestFacts}
 */
function factsOf(h, addressed, pinned) {
  const proto = pinned?.proto ?? (addressed.proto === 'https' ? 'https' : 'http');
  return {
    method: addressed.method.toUpperCase(),
    proto,
    host: pinned?.host ?? h.get('host') ?? addressed.host ?? '',
    uri: addressed.uri,
    forwardedFor: h.get('x-forwarded-for') ?? '',
    userAgent: h.get('user-agent') ?? '',
    cookie: sessionCookiesOf(h.get('cookie')),
  };
}

/**
 * The decision for one request: from the allow cache, else from Portcullis (an allow is
 * then cached; a refusal never is).
 *
 * @param {Exclude<ReturnType<typeof resolve>, { ok: false }>} config
 * @param {import('./core.mjs').RequestFacts} facts
 * @returns {Promise<import('./core.mjs').Answer>}
 */
async function decide(config, facts) {
  const invalid = invalidFacts(facts);
  if (invalid) return { kind: 'unavailable', reason: `the request cannot be asked about (${invalid})` };
  // Without a session cookie nothing can be allowed; the answer is still Portcullis's (its
  // sign-in URL), and nothing is cached for it.
  const key = facts.cookie ? cacheKeyOf(config.base, facts) : null;
  const hit = key ? config.cache.get(key) : undefined;
  if (hit) return hit;
  const answer = await askPortcullis(config.base, config.origins, facts, { timeoutMs: config.timeoutMs, fetch: config.fetch });
  if (key && answer.kind === 'allow') config.cache.set(key, answer);
  return answer;
}

function unavailableResponse() {
  return new NextResponse('Service unavailable: the sign-in service cannot be reached.\n', {
    status: 503,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' },
  });
}

/**
 * The gate for a separate Next.js app: its middleware (`proxy.ts` in Next.js 16 terms).
 * For each request it asks Portcullis's `/api/authz/forward-auth` with the request's method,
 * scheme, host, path, client address, user agent and only the Portcullis session cookie.
 * Allowed → the request continues with Portcullis's `Remote-User`, `Remote-Email`,
 * `Remote-Name`, `Remote-Groups` and `Remote-Methods` as request headers (any the client sent
 * are removed first). Refused → the browser goes to Portcullis's sign-in, setup, verify,
 * locked or denied page (only ever on Portcullis's origin). Portcullis unreachable, slow or
 * answering anything else → 503, never allow. Allowed answers are cached for `cacheMs` per
 * process; refusals never are.
 *
 * A missing or invalid PORTCULLIS_URL is logged when the gate is created, and every request
 * then answers 503.
 *
 * @param {import('./next').RemoteGateOptions} [options]
 * @param {string} [options.portcullisUrl] the URL this server reaches Portcullis at
 * @default options.portcullisUrl process.env.PORTCULLIS_URL
 * @param {number} [options.cacheMs] how long an allowed answer is reused (0: never)
 * @default options.cacheMs 5000
 * @param {number} [options.timeoutMs] how long to wait for Portcullis before answering 503
 * @default options.timeoutMs 3000
 * @returns {(request: import('next/server').NextRequest) => Promise<Response>}
 * @example
 * // middleware.ts (proxy.ts), with PORTCULLIS_URL=https://portal.example.com
 * import { createRemoteMfaGate } from 'portcullis/next';
 * export default createRemoteMfaGate();
 * export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'], runtime: 'nodejs' };
 */
export function createRemoteMfaGate(options = {}) {
  const config = resolve(options);
  if (!config.ok) console.error(`${LOG_PREFIX} not configured, every request answers 503: ${config.error}`);
  return async function remoteMfaGate(request) {
    if (!config.ok) return unavailableResponse();
    const url = new URL(request.url);
    const facts = factsOf(request.headers, { method: request.method, proto: url.protocol.slice(0, -1), uri: url.pathname + url.search, host: url.host }, config.pinned);
    const answer = await decide(config, facts);
    if (answer.kind === 'allow') {
      const forwarded = new Headers(request.headers);
      for (const name of [...forwarded.keys()]) if (name.startsWith('remote-')) forwarded.delete(name);
      for (const [name, value] of Object.entries(answer.headers)) forwarded.set(name, value);
      return NextResponse.next({ request: { headers: forwarded } });
    }
    if (answer.kind === 'redirect') {
      const res = NextResponse.redirect(answer.location, answer.status);
      res.headers.set('cache-control', 'no-store');
      return res;
    }
    console.error(`${LOG_PREFIX} ${facts.method} ${facts.host}${facts.uri.split('?')[0]}: 503, Portcullis ${answer.reason}`);
    return unavailableResponse();
  };
}

/**
 * @param {string} path
 * @returns {string}
 */
function checkedPath(path) {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//')) throw new Error(`${LOG_PREFIX} a path must start with a single '/': ${JSON.stringify(path)}`);
  return path;
}

/**
 * Asks for a page or an action from next/headers: the cookie, host, client address and user
 * agent of the request being served. Never reads Remote-* request headers: a client could
 * send those if the middleware were skipped.
 *
 * @param {string} method
 * @param {string} path
 * @param {import('./next').RemoteGateOptions | undefined} options
 */
async function decideFromHeaders(method, path, options) {
  // headers() first, whatever happens next: it is what makes Next.js render the page per
  // request. A page that returned before it would be prerendered once at build time.
  const h = await requestHeaders();
  const config = resolve(options);
  if (!config.ok) return /** @type {const} */ ({ kind: 'unavailable', reason: config.error });
  const facts = factsOf(h, { method, proto: h.get('x-forwarded-proto') ?? 'http', uri: checkedPath(path) }, config.pinned);
  return decide(config, facts);
}

/**
 * R-D9 for a page of a separate app: the signed-in user when Portcullis allows this page,
 * otherwise a redirect to Portcullis's sign-in, setup, verify, locked or denied page. Throws
 * (the app's error page, never the content) when Portcullis cannot answer. Cheap right after
 * the middleware: its allowed answer is cached for a few seconds.
 *
 * @param {string} path this page's path (and query), as the browser asked for it
 * @param {import('./next').RemoteGateOptions} [options] as createRemoteMfaGate's
 * @returns {Promise<import('./core.mjs').RemoteUser>}
 * @example
 * // app/reports/page.tsx
 * import { requireRemoteUser } from 'portcullis/next';
 * export default async function Reports() {
 *   const user = await requireRemoteUser('/reports');
 *   return <h1>Hello {user.username}</h1>;
 * }
 */
export async function requireRemoteUser(path, options) {
  const answer = await decideFromHeaders('GET', path, options);
  if (answer.kind === 'allow') return answer.user;
  if (answer.kind === 'redirect') redirect(answer.location);
  console.error(`${LOG_PREFIX} page ${path.split('?')[0]}: Portcullis ${answer.reason}`);
  throw new Error('The sign-in service cannot be reached.');
}

/** @param {number} status @param {string} title @param {string} [location] */
function problem(status, title, location) {
  const body = location ? { type: 'about:blank', title, status, location } : { type: 'about:blank', title, status };
  return Response.json(body, { status, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' } });
}

/** @param {string} location */
const isSignIn = (location) => new URL(location).pathname.endsWith('/login');

/**
 * R-D9 for a route handler of a separate app: `{ user }` when Portcullis allows this request,
 * otherwise `{ response }` to return as it is: 401 when a sign-in is needed, 403 for any
 * other refusal (a second factor, setup, a lock-out, a denial; `location` in the body says
 * where a browser would go), 503 when Portcullis cannot answer.
 *
 * @param {Request} request the route handler's request
 * @param {import('./next').RemoteGateOptions} [options] as createRemoteMfaGate's
 * @returns {Promise<import('./next').RemoteRouteAccess>}
 * @example
 * // app/api/reports/route.ts
 * import { remoteRouteAccess } from 'portcullis/next';
 * export async function GET(request: Request) {
 *   const access = await remoteRouteAccess(request);
 *   if (access.response) return access.response;
 *   return Response.json({ user: access.user.username });
 * }
 */
export async function remoteRouteAccess(request, options) {
  const config = resolve(options);
  if (!config.ok) {
    console.error(`${LOG_PREFIX} route: ${config.error}`);
    return { response: problem(503, 'Temporarily unavailable') };
  }
  const url = new URL(request.url);
  // The route's own request headers (what next/headers would give), never its Remote-*.
  const facts = factsOf(request.headers, { method: request.method, proto: url.protocol.slice(0, -1), uri: url.pathname + url.search, host: url.host }, config.pinned);
  const answer = await decide(config, facts);
  if (answer.kind === 'allow') return { user: answer.user };
  if (answer.kind === 'redirect') {
    return { response: isSignIn(answer.location) ? problem(401, 'Sign-in required', answer.location) : problem(403, 'Access denied', answer.location) };
  }
  console.error(`${LOG_PREFIX} route ${facts.method} ${facts.uri.split('?')[0]}: 503, Portcullis ${answer.reason}`);
  return { response: problem(503, 'Temporarily unavailable') };
}

/**
 * R-D9 for a server action of a separate app: checks before any side effect and never
 * redirects or throws by itself. `{ ok: true, user }` when Portcullis allows a POST to
 * `path`; otherwise `{ ok: false, reason, redirectTo }` (`login`: a sign-in is needed,
 * `refused`: any other refusal, `unavailable`: Portcullis cannot answer, redirectTo null).
 *
 * @param {string} path the path of the page the action belongs to
 * @param {import('./next').RemoteGateOptions} [options] as createRemoteMfaGate's
 * @returns {Promise<import('./next').RemoteActionAccess>}
 * @example
 * 'use server';
 * import { remoteActionAccess } from 'portcullis/next';
 * export async function approve(formData: FormData) {
 *   const access = await remoteActionAccess('/reports');
 *   if (!access.ok) return { error: 'Not allowed.' };
 *   await approveReport(access.user.username, formData.get('id'));
 * }
 */
export async function remoteActionAccess(path, options) {
  const answer = await decideFromHeaders('POST', path, options);
  if (answer.kind === 'allow') return { ok: true, user: answer.user };
  if (answer.kind === 'redirect') return { ok: false, reason: isSignIn(answer.location) ? 'login' : 'refused', redirectTo: answer.location };
  console.error(`${LOG_PREFIX} action ${path.split('?')[0]}: Portcullis ${answer.reason}`);
  return { ok: false, reason: 'unavailable', redirectTo: null };
}

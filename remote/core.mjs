// The remote gate's pure parts and its one HTTP call, free of Next.js so they can be tested
// against a real server. Plain ESM with JSDoc: an app that installs this repo from git or a
// path does not compile our TypeScript. Only node built-ins may be imported here.
import { createHash } from 'node:crypto';

/** The Remote-* headers Portcullis answers an allowed request with (Authelia's names). */
export const REMOTE_HEADERS = Object.freeze(['remote-user', 'remote-email', 'remote-name', 'remote-groups', 'remote-methods']);

/** Bounds on what is sent to Portcullis: a request beyond them is refused, never forwarded cut. */
const MAX_COOKIE_CHARS = 8192;
const MAX_URI_CHARS = 8192;
const MAX_HEADER_CHARS = 1024;

/**
 * The Portcullis base URL from an option or PORTCULLIS_URL, without a trailing slash, or an
 * Error saying what is wrong. Only http(s), no credentials, no query or fragment.
 *
 * @param {string | undefined} value
 * @param {string} [name] what to call it in the message
 * @returns {{ url: string, origin: string } | { error: string }}
 */
export function parseBaseUrl(value, name = 'PORTCULLIS_URL') {
  if (!value || !value.trim()) return { error: `${name} is not set: the remote gate needs the Portcullis URL (e.g. https://portal.example.com)` };
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    return { error: `${name} is not an absolute URL: ${JSON.stringify(value)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `${name} must be http(s): ${JSON.stringify(value)}` };
  if (url.username || url.password || url.search || url.hash) return { error: `${name} must have no credentials, query or fragment` };
  return { url: url.origin + url.pathname.replace(/\/+$/, ''), origin: url.origin };
}

/**
 * Only the Portcullis session cookie(s) of a Cookie header (names ending `portcullis.session`:
 * `portcullis.session`, `__Secure-portcullis.session`, `__Host-portcullis.session`), so the
 * app's other cookies never leave for Portcullis. '' when there is none.
 *
 * @param {string | null | undefined} header the request's Cookie header
 * @returns {string}
 */
export function sessionCookiesOf(header) {
  if (!header) return '';
  const kept = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name.endsWith('portcullis.session')) kept.push(`${name}=${part.slice(eq + 1).trim()}`);
  }
  return kept.join('; ');
}

/**
 * @typedef {object} RequestFacts what Portcullis decides on, as the app sees the request
 * @property {string} method the original method (GET, POST, …)
 * @property {'http' | 'https'} proto the scheme the browser used
 * @property {string} host the Host the browser addressed (with port when not the default)
 * @property {string} uri path and query, still percent-encoded
 * @property {string} forwardedFor the client address chain as the app sees it (X-Forwarded-For), '' when unknown
 * @property {string} userAgent
 * @property {string} cookie only the Portcullis session cookie(s), see sessionCookiesOf
 */

/**
 * Why a request cannot be asked about (oversized or malformed facts), or null when it can.
 * Such a request is refused with 503 rather than sent cut or unchecked.
 *
 * @param {RequestFacts} facts
 * @returns {string | null}
 */
export function invalidFacts(facts) {
  if (!/^[A-Z]{1,16}$/.test(facts.method)) return 'method';
  if (facts.proto !== 'http' && facts.proto !== 'https') return 'proto';
  if (!facts.host || facts.host.length > 255 || !/^[A-Za-z0-9.\-:[\]]+$/.test(facts.host)) return 'host';
  if (!facts.uri.startsWith('/') || facts.uri.length > MAX_URI_CHARS) return 'uri';
  if (facts.cookie.length > MAX_COOKIE_CHARS) return 'cookie';
  if (facts.forwardedFor.length > MAX_HEADER_CHARS || facts.userAgent.length > MAX_HEADER_CHARS) return 'header size';
  return null;
}

/**
 * The headers of the question to `/api/authz/forward-auth` (the forward-auth contract).
 *
 * @param {RequestFacts} facts
 * @returns {Record<string, string>}
 */
export function forwardAuthHeaders(facts) {
  /** @type {Record<string, string>} */
  const h = {
    'x-forwarded-method': facts.method,
    'x-forwarded-proto': facts.proto,
    'x-forwarded-host': facts.host,
    'x-forwarded-uri': facts.uri,
    accept: 'text/plain',
  };
  if (facts.forwardedFor) h['x-forwarded-for'] = facts.forwardedFor;
  if (facts.userAgent) h['user-agent'] = facts.userAgent;
  if (facts.cookie) h.cookie = facts.cookie;
  return h;
}

/**
 * The cache key of a question: a digest of everything the answer depends on, so two
 * requests share an answer only when Portcullis would see the same question. No cookie, no
 * key: a request without a session is never allowed from the cache.
 *
 * @param {string} base the Portcullis URL asked
 * @param {RequestFacts} facts
 * @returns {string}
 */
export function cacheKeyOf(base, facts) {
  const parts = [base, facts.cookie, facts.method, facts.proto, facts.host, facts.uri, facts.forwardedFor, facts.userAgent];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * @typedef {object} RemoteUser who Portcullis says the user is, from its Remote-* answer
 * @property {string} username
 * @property {string} email '' when the user has none
 * @property {string} name the display name, '' when none
 * @property {string[]} groups group names
 * @property {string[]} methods the methods the session passed, e.g. ['pwd', 'totp']
 */

const utf8 = new TextDecoder('utf-8');

/**
 * A Remote-* value as text: Portcullis sends UTF-8 bytes, which a Headers object shows one
 * byte per code unit ("Zoë" arrives as "ZoÃ«").
 *
 * @param {string | null} value
 */
export function headerText(value) {
  if (!value) return '';
  return utf8.decode(Uint8Array.from(value, (c) => c.charCodeAt(0) & 0xff));
}

/**
 * The names of a Remote-Groups value: split on `,`, then `%2C` and `%25` back to `,` and `%`
 * (Portcullis escapes them inside a name, so no name can pose as two).
 *
 * @param {string} text
 */
export function groupNames(text) {
  return text
    .split(',')
    .map((s) => s.trim().replace(/%(2C|25)/gi, (m) => (m === '%25' ? '%' : ',')))
    .filter(Boolean);
}

/**
 * The user of an allowed answer, or null when it names none (then nothing is allowed).
 *
 * @param {Headers} headers the answer's headers
 * @returns {RemoteUser | null}
 */
export function remoteUserOf(headers) {
  const username = headerText(headers.get('remote-user'));
  if (!username) return null;
  return {
    username,
    email: headerText(headers.get('remote-email')),
    name: headerText(headers.get('remote-name')),
    groups: groupNames(headerText(headers.get('remote-groups'))),
    methods: headerText(headers.get('remote-methods')).split(',').map((s) => s.trim()).filter(Boolean),
  };
}

/**
 * The absolute URL a refusal sends the browser to, when it is on one of Portcullis's
 * origins; null for anything else (another host, another scheme, a port of its own), so the
 * gate never becomes an open redirect even if something between it and Portcullis lies.
 *
 * @param {string | null} location the answer's Location
 * @param {string[]} origins Portcullis's origins (the URL the gate asks, the browser-facing one)
 * @returns {string | null}
 */
export function portalLocation(location, origins) {
  if (!location || location.length > MAX_URI_CHARS * 2) return null;
  let url;
  try {
    url = new URL(location);
  } catch {
    return null; // relative or malformed: the contract says absolute
  }
  if (url.username || url.password) return null;
  return origins.includes(url.origin) ? url.href : null;
}

/**
 * @typedef {{ kind: 'allow', user: RemoteUser, headers: Record<string, string> }
 *   | { kind: 'redirect', status: 302 | 303, location: string }
 *   | { kind: 'unavailable', reason: string }} Answer
 */

/**
 * A per-process cache of ALLOWED answers only, each for `ttlMs`, at most `maxEntries` (the
 * oldest go first). Refusals are never put in: a person who just enrolled or was just denied
 * sees it on the next request.
 *
 * @param {{ ttlMs: number, maxEntries: number, now?: () => number }} options
 */
export function createAllowCache({ ttlMs, maxEntries, now = Date.now }) {
  /** @type {Map<string, { expires: number, answer: Answer & { kind: 'allow' } }>} */
  const entries = new Map();
  return {
    /** @param {string} key */
    get(key) {
      const hit = entries.get(key);
      if (!hit) return undefined;
      if (hit.expires <= now()) {
        entries.delete(key);
        return undefined;
      }
      return hit.answer;
    },
    /** @param {string} key @param {Answer} answer */
    set(key, answer) {
      if (ttlMs <= 0 || answer.kind !== 'allow') return;
      entries.delete(key);
      entries.set(key, { expires: now() + ttlMs, answer });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
  };
}

/**
 * Asks Portcullis's forward-auth endpoint about one request. Never throws: every failure
 * (a timeout, a network error, an unexpected status, a Location off Portcullis's origin, an
 * allow without a user) is `unavailable`, which the callers answer with 503.
 *
 * @param {string} base the Portcullis URL (parseBaseUrl(...).url)
 * @param {string[]} origins the origins a refusal's Location may point to
 * @param {RequestFacts} facts
 * @param {{ timeoutMs: number, fetch?: typeof fetch }} options
 * @returns {Promise<Answer>}
 */
export async function askPortcullis(base, origins, facts, { timeoutMs, fetch: fetchFn = fetch }) {
  let res;
  try {
    res = await fetchFn(`${base}/api/authz/forward-auth`, {
      method: 'GET',
      headers: forwardAuthHeaders(facts),
      redirect: 'manual',
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = err && typeof err === 'object' && 'name' in err ? String(err.name) : '';
    return { kind: 'unavailable', reason: name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : `unreachable (${errorText(err)})` };
  }
  // The body is never needed; reading it frees the connection for the next question.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status === 200) {
    const user = remoteUserOf(res.headers);
    if (!user) return { kind: 'unavailable', reason: 'an allow without Remote-User' };
    /** @type {Record<string, string>} */
    const headers = {};
    for (const name of REMOTE_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { kind: 'allow', user, headers };
  }
  if (res.status === 302 || res.status === 303) {
    const location = portalLocation(res.headers.get('location'), origins);
    if (!location) return { kind: 'unavailable', reason: `a redirect off Portcullis's origin (${String(res.headers.get('location')).slice(0, 200)})` };
    return { kind: 'redirect', status: res.status, location };
  }
  return { kind: 'unavailable', reason: `answered ${res.status}` };
}

/** @param {unknown} err */
function errorText(err) {
  if (!(err && typeof err === 'object')) return String(err);
  const cause = 'cause' in err && err.cause && typeof err.cause === 'object' && 'code' in err.cause ? String(err.cause.code) : '';
  return cause || ('message' in err ? String(err.message) : 'error');
}

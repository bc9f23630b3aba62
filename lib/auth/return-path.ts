/**
 * R-D12: where a person may be sent back to after sign-in, verify, Set Up or Duo: a
 * same-origin path, or an absolute URL on the portal's host or a host a declared resource
 * names (PORTCULLIS_RESOURCES), https (http only when the portal itself is http).
 *
 * The value is normalised the way a browser would read it (dot segments resolved,
 * percent-encoding decoded for the checks) and the checks run on the NORMALISED value,
 * round after round until normalising changes nothing (a fixed point). Checking the raw
 * value and returning the normalised one let `/.//evil.example` through as `//evil.example`,
 * an open redirect.
 */
import { readEnv } from '../config/env';
import { declaredResources } from '../gate/declared-resources';

export const defaultReturnPath = '/portal';
const maxReturnPathLength = 2048;
/** Normalising converges in one or two rounds; anything still changing after this is refused. */
const maxRounds = 4;
const probeOrigin = 'http://portcullis.invalid';

export interface ReturnPathOptions {
  /** What an unsafe or missing value becomes. @default '/portal' */
  fallback?: string;
  /**
   * Host names (no port) whose absolute URLs are kept (R-D12): the portal's and those of the
   * resources PORTCULLIS_RESOURCES declares. Any port on these hosts is kept.
   * @default declaredResources().returnHosts
   */
  allowedHosts?: readonly string[];
  /**
   * The portal's origin: an absolute URL on it becomes its same-origin path (so the path
   * rules, such as no return into /login, hold for it too), and absolute http URLs are
   * kept only when this origin is http itself.
   * @default PORTCULLIS_ORIGIN
   */
  origin?: string;
}

// eslint-disable-next-line no-control-regex
const forbiddenCharacters = /[\u0000-\u001f\u007f\\]/;

/** The value with every layer of percent-encoding removed, or null if it is malformed. */
function fullyDecoded(value: string): string | null {
  let current = value;
  for (let round = 0; round < maxRounds && current.includes('%'); round++) {
    try {
      current = decodeURIComponent(current);
    } catch {
      return null;
    }
  }
  return current.includes('%') && /%[0-9a-f]{2}/i.test(current) ? null : current;
}

/** True when a path (raw or decoded) would leave the origin or smuggle something. */
function unsafePath(path: string): boolean {
  return !path.startsWith('/') || path.startsWith('//') || forbiddenCharacters.test(path);
}

/** One round: the browser's reading of `candidate` as a same-origin path, or null. */
function normaliseOnce(candidate: string, onPortal: boolean): string | null {
  if (unsafePath(candidate)) return null;
  let url: URL;
  try {
    url = new URL(candidate, probeOrigin);
  } catch {
    return null;
  }
  if (url.origin !== probeOrigin) return null;
  // The path a server or a later hop may decode must be safe as well: `/%2F%2Fevil.example`
  // decodes to `//evil.example`, and `/%2e%2e/%5c` to a backslash.
  const decoded = fullyDecoded(url.pathname);
  if (decoded === null || unsafePath(decoded)) return null;
  let resolved: URL;
  try {
    resolved = new URL(decoded, probeOrigin);
  } catch {
    return null;
  }
  if (resolved.origin !== probeOrigin || unsafePath(resolved.pathname)) return null;
  // A return trip into the sign-in page (or next-auth's paths) would loop.
  if (!onPortal) return `${url.pathname}${url.search}${url.hash}`;
  const lower = resolved.pathname.toLowerCase();
  if (lower === '/login' || lower.startsWith('/login/') || lower === '/api/auth' || lower.startsWith('/api/auth/')) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The normalised same-origin form of a path, or null: the rounds until nothing changes. */
function normalisedPath(input: string, onPortal: boolean): string | null {
  let candidate = input;
  for (let round = 0; round < maxRounds; round++) {
    const next = normaliseOnce(candidate, onPortal);
    if (next === null) return null;
    if (next === candidate) return next;
    candidate = next;
  }
  return null;
}

/**
 * An absolute URL on an allowed host, or null. Its path gets the same care as a bare path
 * (encodings, dot segments, control characters), its origin is rebuilt from the parsed URL
 * so nothing before the path (user info, `#@`, `\\`) can pick another host.
 */
function allowedAbsolute(input: string, hosts: readonly string[], portalOrigin: string): string | null {
  const scheme = /^(https?):\/\//i.exec(input);
  if (!scheme || forbiddenCharacters.test(input) || /\s/.test(input)) return null;
  const portal = new URL(portalOrigin);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== `${scheme[1]!.toLowerCase()}:` || url.username !== '' || url.password !== '') return null;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && portal.protocol === 'http:')) return null;
  const onPortal = url.origin === portal.origin;
  const path = normalisedPath(`${url.pathname}${url.search}${url.hash}`, onPortal);
  if (path === null) return null;
  // The portal's own origin: its path, one form for the same place (the pages that take a
  // return target then see the path they always saw).
  if (onPortal) return path;
  const hostname = url.hostname.toLowerCase();
  if (!hosts.some((allowed) => allowed.toLowerCase() === hostname)) return null;
  return `${url.origin}${path}`;
}

/**
 * A same-origin path (starting with exactly one `/`), an absolute URL on an allowed host,
 * or the fallback; never throws. Rejects `//host`, `/\host`, backslashes, control
 * characters, other schemes, user info, hosts not declared, and anything that becomes one
 * of those once dot segments and percent-encoding are resolved. An absolute URL on the
 * portal's own origin comes back as its path.
 *
 * @param input a form field or query value (anything: non-strings fall back)
 * @param options the fallback, or `{ fallback, allowedHosts, origin }`
 * @example safeReturnPath('https://app.example.com/wiki') // kept when PORTCULLIS_RESOURCES names app.example.com
 * @example safeReturnPath('/x/..//evil.example') // '/portal'
 */
export function safeReturnPath(input: unknown, options: string | ReturnPathOptions = {}): string {
  const given = typeof options === 'string' ? { fallback: options } : options;
  const fallback = given.fallback ?? defaultReturnPath;
  if (typeof input !== 'string' || input.length === 0 || input.length > maxReturnPathLength) return fallback;
  if (!input.startsWith('/')) {
    // Only an absolute URL gets this far; the declared hosts are read only then.
    try {
      const origin = given.origin ?? readEnv().origin;
      const hosts = given.allowedHosts ?? declaredResources().returnHosts;
      const absolute = allowedAbsolute(input, hosts, origin);
      return absolute !== null && absolute.length <= maxReturnPathLength ? absolute : fallback;
    } catch {
      // A bad PORTCULLIS_RESOURCES (the forward-auth endpoints report it) keeps nobody's URL.
      return fallback;
    }
  }
  const path = normalisedPath(input, true);
  return path !== null && path.length <= maxReturnPathLength ? path : fallback;
}

/**
 * R-D12: where a person may be sent back to after sign-in, verify, Set Up or Duo.
 *
 * The value is normalised the way a browser would read it (dot segments resolved,
 * percent-encoding decoded for the checks) and the checks run on the NORMALISED value,
 * round after round until normalising changes nothing (a fixed point). Checking the raw
 * value and returning the normalised one let `/.//evil.example` through as `//evil.example`,
 * an open redirect.
 */
export const defaultReturnPath = '/portal';
const maxReturnPathLength = 2048;
/** Normalising converges in one or two rounds; anything still changing after this is refused. */
const maxRounds = 4;
const probeOrigin = 'http://portcullis.invalid';

export interface ReturnPathOptions {
  /** What an unsafe or missing value becomes. @default '/portal' */
  fallback?: string;
  /**
   * Hosts (e.g. `apps.example.com`) whose absolute https URLs are kept as they are: the
   * hosts of declared resources (R-D12). Empty today: every resource lives on the portal's
   * own origin. @default []
   */
  allowedHosts?: readonly string[];
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
function normaliseOnce(candidate: string): string | null {
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
  const lower = resolved.pathname.toLowerCase();
  if (lower === '/login' || lower.startsWith('/login/') || lower === '/api/auth' || lower.startsWith('/api/auth/')) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

function allowedAbsolute(input: string, hosts: readonly string[]): string | null {
  if (hosts.length === 0 || !/^https:\/\//i.test(input) || forbiddenCharacters.test(input)) return null;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') return null;
  const host = url.host.toLowerCase();
  return hosts.some((allowed) => allowed.toLowerCase() === host) ? url.href : null;
}

/**
 * A same-origin path (starting with exactly one `/`) or the fallback; never throws.
 * Rejects `//host`, `/\host`, backslashes, control characters, schemes, other hosts, and
 * anything that becomes one of those once dot segments and percent-encoding are resolved.
 *
 * @param input a form field or query value (anything: non-strings fall back)
 * @param options the fallback, or `{ fallback, allowedHosts }`
 * @example safeReturnPath('/x/..//evil.example') // '/portal'
 */
export function safeReturnPath(input: unknown, options: string | ReturnPathOptions = {}): string {
  const { fallback = defaultReturnPath, allowedHosts = [] } = typeof options === 'string' ? { fallback: options } : options;
  if (typeof input !== 'string' || input.length === 0 || input.length > maxReturnPathLength) return fallback;
  const absolute = allowedAbsolute(input, allowedHosts);
  if (absolute !== null) return absolute;
  let candidate = input;
  for (let round = 0; round < maxRounds; round++) {
    const next = normaliseOnce(candidate);
    if (next === null) return fallback;
    if (next === candidate) return next.length <= maxReturnPathLength ? next : fallback;
    candidate = next;
  }
  return fallback;
}

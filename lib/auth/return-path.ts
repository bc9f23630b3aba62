export const defaultReturnPath = '/portal';
const maxReturnPathLength = 2048;
const probeOrigin = 'http://portcullis.invalid';

/**
 * A same-origin relative path or the default. Rejects `//host`, `/\host`, schemes, other
 * hosts, control characters and anything URL parsing would resolve elsewhere; never throws.
 */
export function safeReturnPath(input: unknown, fallback = defaultReturnPath): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > maxReturnPathLength) return fallback;
  if (!input.startsWith('/') || input.startsWith('//') || input.startsWith('/\\')) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(input)) return fallback;
  let url: URL;
  try {
    url = new URL(input, probeOrigin);
  } catch {
    return fallback;
  }
  if (url.origin !== probeOrigin) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // A return trip into the sign-in page itself would loop.
  if (url.pathname === '/login' || url.pathname.startsWith('/api/auth')) return fallback;
  return path;
}

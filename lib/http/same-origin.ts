import { readEnv } from '../config/env';

/**
 * CSRF defence for form posts to route handlers (server actions have Next.js's own check):
 * the browser's Origin (or, failing that, Referer) must be this portal's origin or the
 * request's own host.
 */
export function isSameOriginPost(request: Request): boolean {
  const source = request.headers.get('origin') ?? refererOrigin(request.headers.get('referer'));
  if (!source) return false;
  const allowed = new Set([readEnv().origin, new URL(request.url).origin]);
  const host = request.headers.get('host');
  if (host) {
    allowed.add(`http://${host}`);
    allowed.add(`https://${host}`);
  }
  return allowed.has(source);
}

function refererOrigin(referer: string | null): string | null {
  if (!referer) return null;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

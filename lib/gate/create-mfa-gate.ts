import { NextResponse, type NextRequest } from 'next/server';
import { getDb } from '../../db';
import { systemClock, type Clock } from '../clock';
import { clientIpFromHeaders } from '../auth/client-ip';
import { decodeSessionCookie, sessionCookieName } from '../auth/cookie';
import { safeReturnPath } from '../auth/return-path';
import { destinationFor, evaluateAccess } from './access';
import { matchResource, normalizeRoutes, type ResourceRoute } from './paths';
import { unavailableResponse } from './unavailable';

export interface MfaGateOptions {
  /**
   * Path prefixes and the resource each one is. Longest prefix wins.
   * @example [{ prefix: '/portal', resource: 'portal' }, { prefix: '/apps/demo', resource: 'demo' }]
   */
  resources: ResourceRoute[];
  /**
   * Resource for paths the gate cannot normalize (odd encodings): they are treated as
   * protected rather than public.
   * @default 'portal'
   */
  fallbackResource?: string;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Builds the enforcement gate for `middleware.ts` (or `proxy.ts`). For each request under
 * a declared resource it looks up the session once, decides (SPEC D), and continues or
 * redirects to /login, /mfa/setup, /mfa/verify, /mfa/locked or /denied. If the data layer
 * cannot answer it answers 503 and lets nobody through (R-D10).
 *
 * @example
 * // middleware.ts
 * const gate = createMfaGate({ resources: [{ prefix: '/apps/billing', resource: 'billing' }] });
 * export default gate;
 * export const config = { matcher: ['/apps/billing/:path*'], runtime: 'nodejs' };
 */
export function createMfaGate(options: MfaGateOptions) {
  const clock = options.clock ?? systemClock;
  const fallback = options.fallbackResource ?? 'portal';
  const cookieName = sessionCookieName();
  const routes = normalizeRoutes(options.resources);

  return async function mfaGate(request: NextRequest): Promise<Response> {
    const resource = matchResource(request.nextUrl.pathname, routes, fallback);
    if (resource === null) return NextResponse.next();
    try {
      const db = await getDb();
      const token = await decodeSessionCookie(request.cookies.get(cookieName)?.value);
      const { decision } = await evaluateAccess(
        db,
        token,
        resource,
        { ip: clientIpFromHeaders(request.headers), userAgent: request.headers.get('user-agent') },
        clock,
      );
      const returnTo = safeReturnPath(`${request.nextUrl.pathname}${request.nextUrl.search}`);
      const destination = destinationFor(decision, returnTo);
      if (!destination) return NextResponse.next();
      return NextResponse.redirect(new URL(destination, request.url), 303);
    } catch (err) {
      console.error('[portcullis] gate could not decide; failing closed', err instanceof Error ? err.message : err);
      return unavailableResponse();
    }
  };
}

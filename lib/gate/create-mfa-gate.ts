import { NextResponse, type NextRequest } from 'next/server';
import { getDb } from '../../db';
import { systemClock, type Clock } from '../clock';
import { clientIpFromHeaders } from '../auth/client-ip';
import { decodeSessionCookie, sessionCookieName } from '../auth/cookie';
import { safeReturnPath } from '../auth/return-path';
import { deviceCookie } from '../auth/remembered-devices';
import { contentSecurityPolicy, newCspNonce } from '../http/csp';
import { destinationFor, evaluateAccess } from './access';
import { declaredFormActionSources } from './declared-resources';
import { defaultDataPages, isDataPage, probeDataPage, startsDuo } from './data-pages';
import { matchResource, normalizeRoutes, type ResourceRoute } from './paths';
import { unavailableResponse } from './unavailable';
import { loggerFor } from '../log';
import { countGateDecision } from '../metrics/record';

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
  /**
   * Sets a Content-Security-Policy with a fresh nonce on every response (lib/http/csp.ts).
   * The nonce reaches the app as the `x-nonce` request header and in the request's own
   * `Content-Security-Policy` header, where Next.js finds it and puts it on its scripts.
   * Pages must render dynamically for that (the root layout awaits `connection()`).
   * Turn it off only if your app sets its own policy.
   * @default true
   */
  contentSecurityPolicy?: boolean;
  /**
   * Prefixes of pages outside every resource that still need the database (the portal's
   * /mfa pages): a GET there is answered 503 by the gate when the database can't answer
   * (R-D10), instead of failing inside the page. `[]` turns the probe off.
   * @default ['/mfa']
   */
  dataPages?: readonly string[];
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Builds the enforcement gate for `middleware.ts` (or `proxy.ts`). For each request under
 * a declared resource it looks up the session once, decides (SPEC D), and continues or
 * redirects to /login, /mfa/setup, /mfa/verify, /mfa/locked or /denied. If the data layer
 * cannot answer it answers 503 and lets nobody through (R-D10). Every response carries the
 * Content-Security-Policy (unless turned off).
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
  const withCsp = options.contentSecurityPolicy ?? true;
  const dataPages = options.dataPages ?? defaultDataPages;
  const cookieName = sessionCookieName();
  const deviceCookieName = deviceCookie().name;
  const routes = normalizeRoutes(options.resources);

  return async function mfaGate(request: NextRequest): Promise<Response> {
    const pathname = request.nextUrl.pathname;
    const nonce = withCsp ? newCspNonce() : null;
    let formActionHosts: string[] = [];
    const formActionSources = nonce ? declaredFormActionSources() : [];

    /** The response with this request's policy on it. */
    const secured = (response: Response): Response => {
      if (nonce) response.headers.set('Content-Security-Policy', contentSecurityPolicy({ nonce, formActionHosts, formActionSources }));
      return response;
    };
    /** Continue to the page, handing it the nonce (Next.js reads it from the request's CSP header). */
    const proceed = (): Response => {
      if (!nonce) return NextResponse.next();
      const policy = contentSecurityPolicy({ nonce, formActionHosts, formActionSources });
      const headers = new Headers(request.headers);
      headers.set('x-nonce', nonce);
      headers.set('Content-Security-Policy', policy);
      const response = NextResponse.next({ request: { headers } });
      response.headers.set('Content-Security-Policy', policy);
      return response;
    };

    // Without the database the cookie can't be checked, but its presence says who is asking.
    const audience = request.cookies.has(cookieName) ? 'signed_in' : 'anyone';
    const resource = matchResource(pathname, routes, fallback);
    if (resource === null) {
      if (request.method !== 'GET' || !isDataPage(pathname, dataPages)) return proceed();
      try {
        const probe = await probeDataPage((await getDb()).kysely);
        if (probe.duoApiHost && startsDuo(pathname)) formActionHosts = [probe.duoApiHost];
      } catch (err) {
        loggerFor(request.headers).error({ err }, 'page data unavailable; failing closed');
        return secured(unavailableResponse(audience));
      }
      return proceed();
    }
    try {
      const db = await getDb();
      const token = await decodeSessionCookie(request.cookies.get(cookieName)?.value);
      const { decision } = await evaluateAccess(
        db,
        token,
        resource,
        {
          ip: clientIpFromHeaders(request.headers),
          userAgent: request.headers.get('user-agent'),
          deviceToken: request.cookies.get(deviceCookieName)?.value ?? null,
        },
        clock,
      );
      countGateDecision(decision.kind, resource);
      const returnTo = safeReturnPath(`${pathname}${request.nextUrl.search}`);
      const destination = destinationFor(decision, returnTo);
      if (!destination) return proceed();
      return secured(NextResponse.redirect(new URL(destination, request.url), 303));
    } catch (err) {
      loggerFor(request.headers).error({ err }, 'gate could not decide; failing closed');
      countGateDecision('unavailable', resource);
      return secured(unavailableResponse(audience));
    }
  };
}

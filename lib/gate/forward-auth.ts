/**
 * The forward-auth endpoints: one access decision per proxy subrequest, about the request
 * the proxy is holding (lib/gate/original-request.ts), for the session in its Cookie header,
 * with the same evaluation the portal's own gate runs (evaluateAccess). Answers per
 * lib/gate/forward-auth-answer.ts.
 *
 * Fails closed throughout: headers that don't describe a request → 400; a URL no declared
 * resource names → deny, decided before any database work; anything the data layer can't
 * answer → 503. Only the cookie's own session is ever answered for, and an unknown, expired
 * or forged cookie is just "sign in": the answer never tells whether a user exists.
 */
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { clientIpFromHeaders } from '../auth/client-ip';
import { decodeSessionCookie, sessionCookieName } from '../auth/cookie';
import { loggerFor } from '../log';
import { countGateDecision } from '../metrics/record';
import { processSingleton } from '../process-singletons';
import { deviceCookie } from '../auth/remembered-devices';
import { evaluateAccess, type AccessDb } from './access';
import { declaredResources, resourceOfUrl, type DeclaredResources } from './declared-resources';
import { allowAnswer, badRequestAnswer, refusalAnswer, toResponse, unavailableAnswer, type ProxyAnswer, type ProxyFlavour } from './forward-auth-answer';
import { groupNamesOf } from './group-names';
import { matchHostResource } from './host-routes';
import { readForwardedRequest, readOriginalUrlRequest, type OriginalRequest } from './original-request';
import { remoteHeadersFor } from './remote-headers';

export interface ForwardAuthOptions {
  /** @default getDb (the process's database) */
  db?: () => Promise<AccessDb>;
  /** @default declaredResources (PORTCULLIS_ORIGIN and PORTCULLIS_RESOURCES) */
  resources?: () => DeclaredResources;
  /** @default systemClock */
  clock?: Clock;
  /** @default sessionCookieName() */
  cookieName?: () => string;
}

const maxCookieHeader = 16_384;

/** The value of cookie `name` in a Cookie header, or undefined. The first one wins, as browsers send the most specific first. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header || header.length > maxCookieHeader) return undefined;
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals !== -1 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/**
 * The resource of the original request, or null. Both readings of the path must agree: the
 * URL parser's (dot segments resolved, `\` as `/`) and the raw one as the proxy sent it
 * (which the path matcher refuses to normalize when it holds odd encodings).
 */
export function resourceOfOriginal(original: OriginalRequest, resources: DeclaredResources): string | null {
  const resource = resourceOfUrl(original.url, resources);
  if (resource === null) return null;
  return matchHostResource(original.url.host, original.rawPath, resources.hostRoutes) === resource ? resource : null;
}

interface HeaderReader {
  get(name: string): string | null;
}

/** Decides one subrequest from its headers alone (case-insensitive `get`). */
export type ForwardAuthDecider = (headers: HeaderReader) => Promise<ProxyAnswer>;

/**
 * A handler for one flavour of the endpoint, for route.ts.
 * @param flavour `forward-auth` (Traefik, Caddy) or `auth-request` (nginx)
 * @example export const GET = createForwardAuthHandler('forward-auth');
 */
export function createForwardAuthHandler(flavour: ProxyFlavour, options: ForwardAuthOptions = {}): (request: Request) => Promise<Response> {
  const decide = createForwardAuthDecider(flavour, options);
  return async (request) => toResponse(await decide(request.headers));
}

/**
 * The decision of createForwardAuthHandler() without web Request/Response objects: what the
 * entry server calls with node's own headers (scripts/forward-auth-route.mjs), the same
 * function the route's handler wraps.
 */
export function createForwardAuthDecider(flavour: ProxyFlavour, options: ForwardAuthOptions = {}): ForwardAuthDecider {
  const clock = options.clock ?? systemClock;
  const database = options.db ?? (async () => (await import('../../db')).getDb());
  const readResources = options.resources ?? declaredResources;
  const cookieName = options.cookieName ?? (() => sessionCookieName());
  const readOriginal = flavour === 'forward-auth' ? readForwardedRequest : readOriginalUrlRequest;

  return async function forwardAuth(headers: HeaderReader): Promise<ProxyAnswer> {
    const original = readOriginal(headers);
    if (!original.ok) return badRequestAnswer(original.problem);
    const { method, url } = original.request;
    let resource: string | null = null;
    try {
      const resources = readResources();
      resource = resourceOfOriginal(original.request, resources);
      if (resource === null) {
        countGateDecision('deny', null);
        return refusalAnswer(flavour, { kind: 'deny' }, method, resources.origin, url.href);
      }
      const token = await decodeSessionCookie(cookieValue(headers.get('cookie'), cookieName()));
      const db = await database();
      const client = {
        ip: clientIpFromHeaders(headers),
        userAgent: headers.get('user-agent'),
        deviceToken: cookieValue(headers.get('cookie'), deviceCookie().name) ?? null,
      };
      const { decision, session, facts } = await evaluateAccess(db, token, resource, client, clock);
      if (decision.kind !== 'allow') {
        countGateDecision(decision.kind, resource);
        return refusalAnswer(flavour, decision, method, resources.origin, url.href);
      }
      const groupIds = facts?.group_ids ? facts.group_ids.split(',').filter(Boolean) : [];
      const groups = await groupNamesOf(db.kysely, facts!.config_version, groupIds);
      countGateDecision('allow', resource);
      return allowAnswer(remoteHeadersFor(session!, groups));
    } catch (err) {
      loggerFor(headers).error({ err, flavour }, 'forward-auth decision failed; failing closed');
      countGateDecision('unavailable', resource);
      return unavailableAnswer();
    }
  };
}

/** The endpoints' paths, each with its flavour. */
export const forwardAuthPaths: Readonly<Record<string, ProxyFlavour>> = {
  '/api/authz/forward-auth': 'forward-auth',
  '/api/authz/auth-request': 'auth-request',
};

/**
 * Registers the deciders for scripts/server.mjs, which serves the two endpoints from node's
 * own request and response (scripts/forward-auth-route.mjs): the web Request and Response a
 * direct route builds cost more CPU than the decision itself (bench/RESULTS.md, "## forward-auth").
 * Any method; the path must match exactly (no query matters).
 */
export function registerForwardAuthRoutes(options: ForwardAuthOptions = {}): void {
  const routes = processSingleton('forward-auth-routes', () => new Map<string, ForwardAuthDecider>());
  for (const [path, flavour] of Object.entries(forwardAuthPaths)) routes.set(path, createForwardAuthDecider(flavour, options));
}

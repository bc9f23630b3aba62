/**
 * The portal's gate in the entry server (scripts/server.mjs, what `npm start` serves): the
 * portal's own protected paths are decided here, before Next.js, with the same decision as
 * the middleware (evaluateAccess + destinationFor). Next.js's middleware machinery costs a
 * page about 0.5 ms of CPU per request (bench/RESULTS.md, "## gate"); deciding here costs
 * the decision alone.
 *
 * How the two layers meet: the entry strips a client's `x-portcullis-gate-decided` header
 * from every request and sets it only on a request it has decided and allowed; middleware.ts
 * is configured not to run when that header is present (its matcher's `missing`). A request
 * the entry does not decide (no resource, a path or URL it can't read, the entry gate not
 * registered yet) goes to Next.js unmarked, and the middleware decides it as before.
 *
 * Why a marker a client could send under plain `next start` (no entry server) is acceptable:
 * it skips only the middleware, never the page's own check (R-D9: requirePageAccess,
 * routeAccess, actionAccess decide again with the same evaluateAccess), so it lifts no
 * access decision. What the client loses is its own response's CSP and the /mfa 503 probe:
 * protections of its own browser, which it could drop anyway. A victim's browser can't be
 * made to send the header: navigations and forms can't set headers, and a cross-site fetch
 * with a custom header needs a CORS preflight the portal never grants. A marker the
 * middleware verifies (the entry's per-process token) would need the middleware to run,
 * which is the very cost this avoids; the matcher can only test for a header's presence
 * or a value fixed at build time.
 */
import { systemClock, type Clock } from '../clock';
import { decodeSessionCookie, sessionCookieName } from '../auth/cookie';
import { safeReturnPath } from '../auth/return-path';
import { contentSecurityPolicy, newCspNonce } from '../http/csp';
import { declaredFormActionSources } from './declared-resources';
import { loggerFor } from '../log';
import { countGateDecision } from '../metrics/record';
import { processSingleton, existingProcessSingleton } from '../process-singletons';
import { getDb } from '../../db';
import { deviceCookie } from '../auth/remembered-devices';
import { destinationFor, evaluateAccess, type AccessDb } from './access';
import { matchResource, normalizeRoutes, type ResourceRoute } from './paths';
import { unavailableHtmlFor, unavailableResponse } from './unavailable';

/** Set by the entry on a request it decided and allowed; middleware.ts does not run for it. */
export const gateDecidedHeader = 'x-portcullis-gate-decided';

/** What the entry server knows about a request, before Next.js sees it. */
export interface EntryRequest {
  method: string;
  /** The request target as received: path and query (an absolute-form target is left to Next.js). */
  target: string;
  cookieHeader: string | null;
  /** The client address the entry resolved (socket peer, or trusted proxies' X-Forwarded-For). */
  ip: string;
  userAgent: string | null;
  /** For log lines (the request id). */
  headers: { get(name: string): string | null };
}

/** A refusal, answered by the entry itself. */
export interface EntryAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type EntryVerdict =
  /** Not one of the portal's protected paths (or not readable here): Next.js and middleware.ts take it. */
  | { kind: 'undecided' }
  /** Allowed: hand to Next.js with this nonce and policy, marked as decided. */
  | { kind: 'allow'; nonce: string; policy: string }
  | { kind: 'refuse'; answer: EntryAnswer };

export type EntryGate = (request: EntryRequest) => Promise<EntryVerdict>;

export interface EntryGateOptions {
  /**
   * The portal's protected path prefixes, as middleware.ts gives createMfaGate().
   * @example portalResources (portcullis.config.ts)
   */
  resources: readonly ResourceRoute[];
  /**
   * Resource for paths that can't be normalized: protected, as in createMfaGate().
   * @default 'portal'
   */
  fallbackResource?: string;
  /** @default systemClock */
  clock?: Clock;
  /** @default the server's database (db/index.ts getDb()) */
  db?: () => Promise<AccessDb>;
}

/** The value of cookie `name` in a Cookie header, parsed as Next.js's RequestCookies does (last one wins). */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const pair of header.split(/; */)) {
    const at = pair.indexOf('=');
    if (at === -1 || pair.slice(0, at) !== name) continue;
    try {
      found = decodeURIComponent(pair.slice(at + 1));
    } catch {
      // Next.js skips an undecodable value too.
    }
  }
  return found;
}

/**
 * Builds the entry server's gate for the portal's own paths. Same decision, redirects,
 * 503 page and CSP as createMfaGate(); the caller (scripts/entry-gate.mjs) writes the
 * answer or hands the request on.
 *
 * @param options.resources the portal's protected prefixes
 * @example registerEntryGate(createEntryGate({ resources: portalResources }))
 */
export function createEntryGate(options: EntryGateOptions): EntryGate {
  const clock = options.clock ?? systemClock;
  const fallback = options.fallbackResource ?? 'portal';
  const routes = normalizeRoutes(options.resources);
  const cookieName = sessionCookieName();
  const deviceCookieName = deviceCookie().name;
  const database = options.db ?? getDb;

  return async function entryGate(request: EntryRequest): Promise<EntryVerdict> {
    // An absolute-form or asterisk target: Next.js parses those its own way, so leave it
    // to the middleware rather than decide on a path that might differ from Next's.
    if (!request.target.startsWith('/')) return { kind: 'undecided' };
    // The path as Next.js's middleware sees it (WHATWG parsing: dot segments resolved,
    // encoding kept), on a fixed base so neither the target nor the Host can move it.
    let url: URL;
    try {
      url = new URL(`http://entry.invalid${request.target}`);
    } catch {
      return { kind: 'undecided' };
    }
    const resource = matchResource(url.pathname, routes, fallback);
    if (resource === null) return { kind: 'undecided' };
    const nonce = newCspNonce();
    const policy = contentSecurityPolicy({ nonce, formActionSources: declaredFormActionSources() });
    try {
      // Location stays a path: Next.js makes the middleware's same-origin redirect relative too.
      const db = await database();
      const token = await decodeSessionCookie(cookieValue(request.cookieHeader, cookieName));
      const { decision } = await evaluateAccess(db, token, resource, {
        ip: request.ip,
        userAgent: request.userAgent,
        deviceToken: cookieValue(request.cookieHeader, deviceCookieName) ?? null,
      }, clock);
      countGateDecision(decision.kind, resource);
      const destination = destinationFor(decision, safeReturnPath(`${url.pathname}${url.search}`));
      if (!destination) return { kind: 'allow', nonce, policy };
      return {
        kind: 'refuse',
        answer: { status: 303, headers: { location: destination, 'content-security-policy': policy }, body: '' },
      };
    } catch (err) {
      loggerFor(request.headers).error({ err }, 'entry gate could not decide; failing closed');
      countGateDecision('unavailable', resource);
      const headers: Record<string, string> = { 'content-security-policy': policy };
      const audience = cookieValue(request.cookieHeader, cookieName) === undefined ? 'anyone' : 'signed_in';
      unavailableResponse(audience).headers.forEach((value, name) => {
        headers[name] = value;
      });
      return { kind: 'refuse', answer: { status: 503, headers, body: unavailableHtmlFor(audience) } };
    }
  };
}

// NOTE: a process singleton (lib/process-singletons.ts): instrumentation.ts registers it in
// Next's bundle, scripts/entry-gate.mjs (not bundled) finds it under the same key.
/** Makes `gate` the entry server's gate (instrumentation.ts, at start-up). */
export function registerEntryGate(gate: EntryGate): void {
  const holder = processSingleton('entry-gate', () => ({ gate: null as EntryGate | null }));
  holder.gate = gate;
}

/** The registered entry gate, or null (then middleware.ts decides everything). */
export function registeredEntryGate(): EntryGate | null {
  return existingProcessSingleton<{ gate: EntryGate | null }>('entry-gate')?.gate ?? null;
}

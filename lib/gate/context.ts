import { cache } from 'react';
import { cookies, headers } from 'next/headers';
import { getDb } from '../../db';
import { systemClock, type Clock } from '../clock';
import { clientIpFromHeaders } from '../auth/client-ip';
import { decodeSessionCookie, sessionCookieName } from '../auth/cookie';
import { deviceCookie } from '../auth/remembered-devices';
import { loadSession, type LoadedSession, type SessionContext } from '../auth/sessions';
import type { Decision } from '../policy';
import { log } from '../log';
import { decideFor, loginDecision, type AccessDb, type RequestFacts } from './access';

/** How strongly this request's session is authenticated, derived from the methods it passed. */
export interface Assurance {
  /** 1: a password only; 2: a second factor too. */
  aal: 1 | 2;
  /** When the session last passed a second factor (epoch ms), or null. */
  secondFactorAt: number | null;
}

/**
 * Everything a page, route handler or server action needs to decide whether this request
 * may go on. Built once per request: however many components ask, the session is looked up
 * once, and each resource is decided once.
 */
export interface AccessContext {
  /** The signed-in session, or null (no cookie, unknown, expired, or the user may not sign in). */
  session: SessionContext | null;
  /** The session's assurance; null without a session. */
  assurance: Assurance | null;
  /** Client address (as the server entry vouches for it) and user agent of this request. */
  client: RequestFacts;
  /**
   * The gate's decision for this session on `resource`: the same evaluation the
   * middleware ran. `{ kind: 'login' }` without a session.
   * @param resource a resource id: 'portal' or one declared in portcullis.config.ts
   */
  decisionFor(resource: string): Promise<Decision>;
}

/**
 * Thrown when the data layer cannot answer: callers never treat it as access (R-D10).
 * Recognised by its brand (accessUnavailableOf), never by `instanceof`.
 */
export class AccessUnavailable extends Error {
  readonly accessUnavailable = true;
  constructor() {
    super('temporarily unavailable');
  }
}

/** Whether `err` is the access context's "could not decide". */
export function isAccessUnavailable(err: unknown): boolean {
  return (err as { accessUnavailable?: unknown } | null)?.accessUnavailable === true;
}

function unavailable(err: unknown): never {
  log.error({ err }, 'access check failed; failing closed');
  throw new AccessUnavailable();
}

/** The request's session cookie (decoded) and client, from Next's request APIs. */
const requestInputs = cache(async (): Promise<{ token: string | null; client: RequestFacts }> => {
  const [cookieStore, h] = await Promise.all([cookies(), headers()]);
  const token = await decodeSessionCookie(cookieStore.get(sessionCookieName())?.value);
  const deviceToken = cookieStore.get(deviceCookie().name)?.value ?? null;
  return { token, client: { ip: clientIpFromHeaders(h), userAgent: h.get('user-agent'), deviceToken } };
});

function assuranceOf(session: SessionContext): Assurance {
  return { aal: session.aal, secondFactorAt: session.secondFactorAt };
}

/**
 * The context over explicit inputs: what getAccessContext() memoises per request, usable
 * without Next's request APIs (tests, other servers).
 * @param clock @default systemClock
 */
export async function accessContextFor(db: AccessDb, token: string | null, client: RequestFacts, clock: Clock = systemClock): Promise<AccessContext> {
  const loaded: LoadedSession | null = await loadSession(db, token, clock);
  const decisions = new Map<string, Promise<Decision>>();
  return {
    session: loaded?.session ?? null,
    assurance: loaded ? assuranceOf(loaded.session) : null,
    client,
    decisionFor(resource: string): Promise<Decision> {
      if (!loaded) return Promise.resolve(loginDecision);
      let decision = decisions.get(resource);
      if (!decision) {
        decision = decideFor(db, loaded, resource, client, clock).catch(unavailable);
        decisions.set(resource, decision);
      }
      return decision;
    },
  };
}

/**
 * This request's access context (React `cache()`d: one per request). Throws
 * {@link AccessUnavailable} when the database cannot answer; the helpers below turn that
 * into a 503 or an error page, never into access.
 *
 * @example
 * // app/billing/page.tsx: a page that shows who is signed in without requiring anything
 * const { session } = await getAccessContext();
 * @example
 * const access = await getAccessContext();
 * const decision = await access.decisionFor('billing');
 */
export const getAccessContext = cache(async (): Promise<AccessContext> => {
  try {
    const [{ token, client }, db] = await Promise.all([requestInputs(), getDb()]);
    return await accessContextFor(db, token, client);
  } catch (err) {
    if (isAccessUnavailable(err)) throw err;
    return unavailable(err);
  }
});

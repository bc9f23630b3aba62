import { redirect } from 'next/navigation';
import { getDb } from '../../db';
import { systemClock } from '../clock';
import { currentSessionToken, requestClient } from '../auth/current';
import type { SessionContext } from '../auth/sessions';
import type { Decision } from '../policy';
import { portalResources } from '../../portcullis.config';
import { destinationFor, evaluateAccess, type AccessResult } from './access';
import { resourceForPath } from './paths';
import { log } from '../log';

/**
 * The decision for this request's session on `resource`. Throws when the data layer
 * cannot answer; callers never treat that as access (R-D10).
 */
export async function accessFor(resource: string): Promise<AccessResult> {
  try {
    const db = await getDb();
    return await evaluateAccess(db, await currentSessionToken(), resource, await requestClient(), systemClock);
  } catch (err) {
    log.error({ err }, 'access check failed; failing closed');
    throw new Error('temporarily unavailable');
  }
}

/** The resource a return path belongs to (the portal for anything undeclared). */
export function resourceOfPath(path: string): string {
  return resourceForPath(path.split(/[?#]/)[0], portalResources, 'portal') ?? 'portal';
}

/**
 * R-D9: the gate's decision again, inside a page or server action. Anything but allow
 * redirects (login, setup, verify, locked, denied); it never returns without access.
 */
export async function requireAccess(resource: string, returnTo = '/portal'): Promise<{ session: SessionContext; decision: Decision }> {
  const { decision, session } = await accessFor(resource);
  if (decision.kind === 'allow' && session) return { session, decision };
  redirect(destinationFor(decision, returnTo) ?? '/login');
}

/** The same check for route handlers: a Response to return when access is refused. */
export async function accessForRoute(resource: string): Promise<{ session: SessionContext } | { response: Response }> {
  let result: AccessResult;
  try {
    result = await accessFor(resource);
  } catch {
    return { response: problem(503, 'Temporarily unavailable') };
  }
  if (result.decision.kind === 'allow' && result.session) return { session: result.session };
  if (result.decision.kind === 'login') return { response: problem(401, 'Sign-in required') };
  return { response: problem(403, 'Access denied', result.decision.rule) };
}

function problem(status: number, title: string, rule?: string): Response {
  return new Response(JSON.stringify({ type: 'about:blank', title, status, ...(rule ? { rule } : {}) }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  });
}

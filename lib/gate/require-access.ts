import { redirect } from 'next/navigation';
import { getDb } from '../../db';
import { systemClock } from '../clock';
import { currentSessionToken, requestClient } from '../auth/current';
import type { SessionContext } from '../auth/sessions';
import { destinationFor, evaluateAccess, type AccessResult } from './access';

export class ServiceUnavailableError extends Error {}

async function decideForRequest(resource: string): Promise<AccessResult> {
  try {
    const db = await getDb();
    return await evaluateAccess(db.kysely, await currentSessionToken(), resource, await requestClient(), systemClock);
  } catch (err) {
    console.error('[portcullis] access check failed; failing closed', err instanceof Error ? err.message : err);
    throw new ServiceUnavailableError('temporarily unavailable');
  }
}

/**
 * R-D9: the gate's decision again, inside a page or server action. Anything but allow
 * redirects (login, setup, verify, locked, denied); it never returns without access.
 */
export async function requireAccess(resource: string, returnTo = '/portal'): Promise<SessionContext> {
  const result = await decideForRequest(resource);
  if (result.kind === 'allow') return result.session;
  redirect(destinationFor(result, returnTo) ?? '/login');
}

/** The same check for route handlers: a Response to return when access is refused. */
export async function accessForRoute(resource: string): Promise<{ session: SessionContext } | { response: Response }> {
  let result: AccessResult;
  try {
    result = await decideForRequest(resource);
  } catch {
    return { response: Response.json({ title: 'Temporarily unavailable' }, { status: 503 }) };
  }
  if (result.kind === 'allow') return { session: result.session };
  const status = result.kind === 'login' ? 401 : 403;
  return { response: Response.json({ title: status === 401 ? 'Sign-in required' : 'Access denied', rule: result.rule }, { status }) };
}

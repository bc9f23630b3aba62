import { redirect } from 'next/navigation';
import type { SessionContext } from '../auth/sessions';
import type { Decision } from '../policy';
import { destinationFor, loginDecision } from './access';
import { getAccessContext, type Assurance } from './context';
import type { RequestFacts } from './decision-input';
import { resourceOfPath } from './resources';

export interface MfaPageAccess {
  session: SessionContext;
  assurance: Assurance;
  client: RequestFacts;
  /** The gate's decision for the return path's resource: why the user is here. */
  decision: Decision;
}

/**
 * For the pages the gate sends people to (/mfa/setup, /mfa/verify, /mfa/locked…): the
 * signed-in session and the decision for where they were going. Without a session they go
 * to sign in first, then come back to `returnTo`.
 *
 * @param returnTo where the user was going (already passed through safeReturnPath): a portal path,
 *   or an absolute URL on a declared host, decided for the resource that URL belongs to
 * @example
 * const { session, decision } = await mfaPageAccess(returnTo);
 * if (decision.kind !== 'challenge') redirect(returnTo);
 */
export async function mfaPageAccess(returnTo: string): Promise<MfaPageAccess> {
  const access = await mfaAccess(returnTo);
  if (!access) redirect(destinationFor(loginDecision, returnTo)!);
  return access;
}

/**
 * mfaPageAccess() for route handlers under /mfa: null without a session instead of a
 * redirect, so the handler answers in its own terms (a 303, or JSON for script callers).
 *
 * @param returnTo where the user was going: a portal path or an absolute URL on a declared host
 * @example
 * const access = await mfaAccess(returnTo);
 * if (!access) return Response.json({ redirectTo: `/login?returnTo=${encodeURIComponent(returnTo)}` }, { status: 401 });
 */
export async function mfaAccess(returnTo: string): Promise<MfaPageAccess | null> {
  const { session, assurance, client, decisionFor } = await getAccessContext();
  if (!session || !assurance) return null;
  return { session, assurance, client, decision: await decisionFor(resourceOfPath(returnTo)) };
}
